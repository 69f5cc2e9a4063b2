// DAG files as the commands exchange them: a CSV edge list with header source,target[,weight] (simulate-dag's
// truth_edges.csv, design's --dag) or from,to (discover's dag_edges.csv); and graphviz DOT (discover's dag.dot).
#pragma once

#include <Eigen/Dense>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace tessera::jobs {

struct DagFile {
  std::vector<std::string> names;          // node i's name
  std::vector<std::pair<int, int>> edges;  // (from, to) node indices, in file order
  Eigen::MatrixXd weights;                 // weights(to, from); NaN where the file gives no weight
};

// Without `nodes`, nodes are numbered in order of first appearance; with them, every name must be one of them
// (a tessera::Error names the file, line and name otherwise) and nodes keep their index there, isolated ones
// included. A self loop or a cycle is an Error naming the file, the nodes and the lines (a -> b -> c -> a).
DagFile read_dag_csv(const std::string& path, const std::vector<std::string>& nodes = {});

// A name as a DOT identifier: in double quotes, with '"' and '\' escaped.
std::string dot_quoted(const std::string& name);
// The names of a dag.dot's node lines (`  "name";`, as discover writes every variable), unescaped, in file order;
// none when the file is missing.
std::vector<std::string> read_dot_nodes(const std::filesystem::path& path);

}  // namespace tessera::jobs
