// The reference handling BLEU and chrF share, as in sacreBLEU's Metric._cache_references:
// per segment, empty references are dropped (so segments may have different numbers of
// references), and a segment left with none is an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qkv {

/// References regrouped by segment, plus the signature's "nrefs" value.
struct SegmentReferences {
  std::vector<std::vector<std::string_view>> per_segment;  // non-empty references of segment i
  std::string nrefs;  // the reference count when all segments agree, else "var" (as sacreBLEU)
};

/// Regroups `ref_streams[stream][segment]` by segment for `num_hypotheses` hypotheses. The
/// views point into `ref_streams`. Throws std::invalid_argument (message prefixed by `metric`)
/// when there are no hypotheses or no streams, when a stream's length differs from the
/// number of hypotheses, or when every reference of a segment is empty.
SegmentReferences collect_references(const std::string& metric,
                                     std::size_t num_hypotheses,
                                     const std::vector<std::vector<std::string>>& ref_streams);

}  // namespace qkv
