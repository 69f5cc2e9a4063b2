// The autoencoder page: the training loss per epoch and the alignment report (input against latent cosine of
// each drug measured in both cell types).
#include "engine/error.h"
#include "jobs/report/pages.h"

namespace tessera::jobs::report {

namespace fs = std::filesystem;

ReportPage train_page(const fs::path& folder) {
  const fs::path loss_file = folder / "loss.csv";
  const io::CsvTable loss = io::read_csv(loss_file);
  ReportPage page("Autoencoder training: " + display_name(folder));
  page.paragraph("The model in " + fs::absolute(folder).lexically_normal().string() + ", trained for " +
                 std::to_string(loss.rows.size()) + " epochs.");
  page.section("Loss per epoch");
  const std::string epoch = loss.header.front();
  std::vector<std::string> numeric(loss.header.begin(), loss.header.end());
  page.chart(
      {{"data", {{"values", records(loss, numeric, loss_file.string())}}},
       {"transform", json::array({{{"fold", json(std::vector<std::string>(loss.header.begin() + 1, loss.header.end()))},
                                   {"as", {"series", "loss"}}}})},
       {"mark", {{"type", "line"}, {"point", loss.rows.size() <= 60}}},
       {"height", 240},
       {"encoding",
        {{"x", {{"field", epoch}, {"type", "quantitative"}, {"axis", {{"tickMinStep", 1}, {"format", "d"}}}}},
         {"y", {{"field", "loss"}, {"type", "quantitative"}, {"scale", {{"zero", false}}}}},
         {"color", {{"field", "series"}, {"type", "nominal"}, {"title", nullptr}}},
         {"tooltip", json::array({{{"field", epoch}}, {{"field", "series"}}, {{"field", "loss"}}})}}}});
  page.table(loss, "loss.csv", 12);

  const fs::path alignment_file = folder / "alignment.csv";
  page.section("Alignment across cell types");
  if (fs::exists(alignment_file)) {
    const io::CsvTable alignment = io::read_csv(alignment_file);
    page.paragraph(
        "Each point is a drug measured in both cell types: the cosine of its two signatures in the "
        "input against that of its two latent signatures. Points above the line are more alike in the "
        "latent space (Belyaeva et al. 2021, Fig. 3d).");
    page.chart(
        {{"data", {{"values", records(alignment, {"input_cosine", "latent_cosine"}, alignment_file.string())}}},
         {"height", 300},
         {"layer",
          json::array(
              {{{"mark", {{"type", "point"}, {"filled", true}}},
                {"encoding",
                 {{"x", {{"field", "input_cosine"}, {"type", "quantitative"}, {"title", "input cosine"}}},
                  {"y", {{"field", "latent_cosine"}, {"type", "quantitative"}, {"title", "latent cosine"}}},
                  {"tooltip",
                   json::array({{{"field", "pert_id"}}, {{"field", "input_cosine"}}, {{"field", "latent_cosine"}}})}}}},
               {{"data", {{"values", json::array({{{"v", -1}}, {{"v", 1}}})}}},
                {"mark", {{"type", "line"}, {"color", "#888"}, {"strokeDash", {4, 4}}}},
                {"encoding",
                 {{"x", {{"field", "v"}, {"type", "quantitative"}, {"title", "input cosine"}}},
                  {"y", {{"field", "v"}, {"type", "quantitative"}, {"title", "latent cosine"}}}}}}})}});
    page.table(alignment, "alignment.csv", 40);
  } else {
    page.paragraph("No alignment.csv: train with --alignment A,B to compare two cell types.");
  }
  add_options_section(page, folder / "options.ini");
  return page;
}

}  // namespace tessera::jobs::report
