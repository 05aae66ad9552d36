// Reference regrouping and validation shared by BLEU and chrF (see references.h).
#include "train/metrics/references.h"

#include <set>
#include <stdexcept>

namespace qkv {

SegmentReferences collect_references(const std::string& metric,
                                     std::size_t num_hypotheses,
                                     const std::vector<std::vector<std::string>>& ref_streams) {
  if (num_hypotheses == 0) {
    throw std::invalid_argument(metric + ": no hypotheses to score");
  }
  if (ref_streams.empty()) {
    throw std::invalid_argument(metric + ": no references given");
  }
  for (std::size_t s = 0; s < ref_streams.size(); ++s) {
    if (ref_streams[s].size() != num_hypotheses) {
      throw std::invalid_argument(metric + ": " + std::to_string(num_hypotheses) +
                                  " hypotheses but reference stream " + std::to_string(s + 1) +
                                  " has " + std::to_string(ref_streams[s].size()) +
                                  " lines; they must have one line per hypothesis");
    }
  }
  SegmentReferences out;
  out.per_segment.resize(num_hypotheses);
  std::set<std::size_t> counts;
  for (std::size_t i = 0; i < num_hypotheses; ++i) {
    for (const auto& stream : ref_streams) {
      if (!stream[i].empty()) {
        out.per_segment[i].push_back(stream[i]);
      }
    }
    if (out.per_segment[i].empty()) {
      throw std::invalid_argument(metric + ": the reference of line " + std::to_string(i + 1) +
                                  " is empty; sacreBLEU rejects empty references (\"Empty or "
                                  "`None` reference sentence found.\"), so qkv does too");
    }
    counts.insert(out.per_segment[i].size());
  }
  out.nrefs = counts.size() == 1 ? std::to_string(*counts.begin()) : "var";
  return out;
}

}  // namespace qkv
