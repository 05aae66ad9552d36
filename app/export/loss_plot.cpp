// The training-curves PNG (see loss_plot.h): the three series from the records, drawn as a
// line chart (line_plot.h) with BLEU on the right axis.
#include "app/export/loss_plot.h"

#include <cmath>

#include "app/export/line_plot.h"

namespace qkv {

void write_loss_plot(const std::vector<MetricsRecord>& records,
                     const std::filesystem::path& path,
                     int width,
                     int height) {
  LineChart chart;
  chart.title = "qkv training: loss and validation BLEU";
  chart.x_label = "step";
  chart.series = {{{}, {}, 0.20, 0.40, 0.80, "train loss", false, 1.2, /*dots=*/false},
                  {{}, {}, 0.90, 0.45, 0.10, "valid loss", false, 2.0, true},
                  {{}, {}, 0.10, 0.60, 0.25, "valid BLEU (right axis)", true, 2.0, true}};
  // Training loss from "train" records; validation loss and BLEU from "valid" ones. Values
  // that are missing or not finite are left out.
  for (const auto& r : records) {
    auto value = [&](const char* key, LineSeries& s) {
      auto it = r.values.find(key);
      if (it != r.values.end() && std::isfinite(it->second)) {
        s.x.push_back(static_cast<double>(r.step));
        s.y.push_back(it->second);
      }
    };
    if (r.type == "train") value("loss", chart.series[0]);
    if (r.type == "valid") {
      value("valid_loss", chart.series[1]);
      value("bleu", chart.series[2]);
    }
  }
  write_line_chart(chart, path, width, height);
}

}  // namespace qkv
