#include "jobs/causal_input.h"

#include <filesystem>

#include "engine/error.h"
#include "io/h5ad.h"
#include "solvers/causal/dcdi.h"
#include "solvers/causal/gctx_input.h"

namespace tessera::jobs {

namespace causal = solvers::causal;

namespace {

// The layouts of causal data --format names; auto guesses from the path.
enum class InputFormat { kAuto, kCsv, kDcdi, kGctx };
const engine::NameTable<InputFormat>& name_table(InputFormat) {
  static const engine::NameTable<InputFormat> table{{InputFormat::kAuto, "auto"},
                                                    {InputFormat::kCsv, "csv"},
                                                    {InputFormat::kDcdi, "dcdi"},
                                                    {InputFormat::kGctx, "gctx"}};
  return table;
}

}  // namespace

void add_causal_input_options(po::options_description& options, const std::string& input_option,
                              const std::string& input_help) {
  options.add_options()(input_option.c_str(), po::value<std::string>(), input_help.c_str())(
      "format", enum_value("format", InputFormat::kAuto),
      "auto | csv | dcdi | gctx (auto: a folder is DCDI, .gctx/.gct/.h5ad a matrix with metadata, anything else "
      "CSV)")("setting-column", po::value<std::string>(),
              "CSV column, or GCTX column field / h5ad obs column, naming each row's setting (default: setting; "
              "pert_iname for GCTX)")(
      "observational", po::value<std::vector<std::string>>()->multitoken(),
      "setting values that are observational (default: 0, obs, observational; DCDI: regime 0)")(
      "settings", po::value<std::vector<std::string>>()->multitoken(),
      "keep only rows of these setting values (default: all)")(
      "targets", po::value<std::string>()->default_value(""),
      "known targets, 'setting:var1;var2,setting:var3' (DCDI: read from intervention<i>.csv)")(
      "dcdi-index", po::value<int>()->default_value(1), "DCDI: the data set number i of data_interv<i>.npy")(
      "variable-field", po::value<std::string>()->default_value(""),
      "GCTX: row field naming the variables, e.g. pr_gene_symbol (default: the row ids)");
}

causal::InterventionalData read_causal_input(const engine::Context& world, const po::variables_map& vm,
                                             const std::string& input_option) {
  TESSERA_CHECK(vm.count(input_option), "--", input_option, " is required");
  const std::filesystem::path input = vm[input_option].as<std::string>();
  auto format = name_table(InputFormat{}).parse(vm["format"].as<std::string>(), "--format");
  if (format == InputFormat::kAuto) {
    const auto extension = input.extension();
    format = std::filesystem::is_directory(input)                                       ? InputFormat::kDcdi
             : (extension == ".gctx" || extension == ".gct" || io::is_h5ad_path(input)) ? InputFormat::kGctx
                                                                                        : InputFormat::kCsv;
  }
  if (format == InputFormat::kDcdi) {
    TESSERA_CHECK(!vm.count("setting-column") && !vm.count("observational") && !vm.count("settings") &&
                      vm["targets"].as<std::string>().empty(),
                  "a DCDI folder names its settings and targets itself (regime<i>.csv, intervention<i>.csv); drop "
                  "--setting-column, --observational, --settings and --targets");
    return causal::read_dcdi(input, vm["dcdi-index"].as<int>());
  }
  causal::CausalCsvOptions options;
  if (vm.count("observational")) options.observational = split_list(vm["observational"].as<std::vector<std::string>>());
  if (vm.count("settings")) options.keep_settings = split_list(vm["settings"].as<std::vector<std::string>>());
  const std::string targets = vm["targets"].as<std::string>();
  if (format == InputFormat::kGctx) {
    causal::GctxInputOptions gctx;
    if (vm.count("setting-column")) gctx.setting_field = vm["setting-column"].as<std::string>();
    gctx.variable_field = vm["variable-field"].as<std::string>();
    return causal::read_causal_gctx(world, input, targets, options, gctx);
  }
  const std::string column = vm.count("setting-column") ? vm["setting-column"].as<std::string>() : "setting";
  return causal::read_causal_csv(input, column, targets, options);
}

}  // namespace tessera::jobs
