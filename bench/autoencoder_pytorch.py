#!/usr/bin/env python3
"""PyTorch reference for bench/autoencoder_bench.cpp: the same model and training loop (Belyaeva et al. 2021:
Linear(d, 1024, bias=False), LeakyReLU(0.01), Linear(1024, d, bias=False), MSE, Adam lr 1e-4, batch 128, a new
permutation per epoch). Prints training samples/s after one untimed warm-up epoch, per wall second and per
CPU second (user + system: the fair figure on a shared, oversubscribed machine).

    python3 bench/autoencoder_pytorch.py [--genes 978] [--width 1024] [--batch 128] [--samples 8192]
                                         [--epochs 3] [--threads 0]
"""
import argparse
import time

import torch


def main():
    parser = argparse.ArgumentParser()
    for name, default in [("genes", 978), ("width", 1024), ("batch", 128), ("samples", 8192), ("epochs", 3),
                          ("threads", 0)]:
        parser.add_argument("--" + name, type=int, default=default)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    data = torch.randn(args.samples, args.genes)
    model = torch.nn.Sequential(torch.nn.Linear(args.genes, args.width, bias=False), torch.nn.LeakyReLU(0.01),
                                torch.nn.Linear(args.width, args.genes, bias=False))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.MSELoss()

    def epoch():
        order = torch.randperm(args.samples)
        total = 0.0
        for begin in range(0, args.samples, args.batch):
            batch = data[order[begin:begin + args.batch]]
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(model(batch), batch)
            loss.backward()
            optimiser.step()
            total += loss.item() * batch.shape[0]
        return total / args.samples

    epoch()  # warm-up
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        loss = epoch()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"autoencoder_pytorch: d={args.genes} width={args.width} batch={args.batch} samples={args.samples} "
          f"threads={torch.get_num_threads()} torch={torch.__version__}: "
          f"{args.samples * args.epochs / seconds:.0f} samples/s, {args.samples * args.epochs / cpu:.0f} samples per CPU s "
          f"({seconds:.3f} s wall, {cpu:.3f} s CPU, final loss {loss:.5f})")


if __name__ == "__main__":
    main()
