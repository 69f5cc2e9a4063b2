// Interventional data from a GCTX or GCT file (CMap's formats): each gene (row) is a variable and each profile
// (column) a sample; a column metadata field gives each sample's setting, e.g. pert_iname with the vehicle
// (DMSO) as the observational setting, and --targets names the genes each perturbation targets. An AnnData file
// (.h5ad) reads the same way: var = variables, each cell a sample, an obs column its setting (e.g. perturbation,
// with the control cells observational).
#pragma once

#include <filesystem>
#include <string>

#include "engine/context.h"
#include "solvers/causal/data.h"

namespace tessera::solvers::causal {

struct GctxInputOptions {
  std::string setting_field = "pert_iname";  // column metadata field naming each sample's setting
  std::string variable_field;                // row metadata field naming the variables; empty: the row ids
};

// Collective (every rank reads the whole file: discovery holds all samples on every rank). A .gct extension
// reads GCT text, .h5ad AnnData. Missing values (-666 / NaN) are an error naming the gene and sample.
InterventionalData read_causal_gctx(const engine::Context& ctx, const std::filesystem::path& path,
                                    const std::string& targets_spec, const CausalCsvOptions& options,
                                    const GctxInputOptions& gctx = {});

}  // namespace tessera::solvers::causal
