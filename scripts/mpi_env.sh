# Sourced by the scripts: lets Open MPI's mpirun run as root (containers, CI) and on more ranks than cores.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
# Large matrices on transparent huge pages where the kernel leaves them to madvise (Debian's default): about 10x
# fewer page faults and 25% less time for the NTK's cross-validation folds (BENCHMARKS.md). glibc < 2.35 ignores it.
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}
