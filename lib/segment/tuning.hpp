#pragma once
// Every tuned number of segmentation, stage by stage, with its default: the values the benchmarks
// chose (docs/BENCHMARKS.md). What each one is and where it came from is said once, in the table
// of tuning.cpp, which `tuning_values` (bench-segment --list-tuning) prints; `set_tuning` sets
// one by its name there ("binarise.lowest_floor=36"), so a sweep needs no code edit. Geometry that
// is no choice (a crop is 28 px, a grey level at most 255, a median the middle) stays in the code.
// No OpenCV here: SegmentOptions (installed) refers to it.

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace digits {

// isolate_page (page.cpp): a sheet photographed on a desk.
struct PageTuning {
  int thumbnail = 48;
  double desk_edge = 0.85;
  int desk_edges = 2;
  int glance_side = 256;
  int blur = 5;
  int level_step = 8;
  double min_sheet = 0.2;
  double max_sheet = 0.97;
  double min_solidity = 0.9;
  double min_bright = 0.8;
  double corner_tolerance = 0.03;
  std::size_t max_corners = 8;
  int max_inner_corners = 5;
  int max_framed_sides = 2;
  double max_desk = 0.7;
  int edge_band = 7;
  double min_step = 0.25;
  double side_probe = 4.0;
  double shadow_reach = 0.05;
  double shadow_step = 0.1;
  double desk_tolerance = 0.08;
  double shade_tolerance = 0.08;
  double shade_above_desk = 0.15;
  int inset = 5;
  int paper_closing = 7;
};

// is_light_on_dark (ink.cpp): the ink's polarity.
struct PolarityTuning {
  int photo_side = 1000;
  int glance_side = 75;
  int photo_glance_side = 300;
  int surround_factor = 4;
  int surround_parts = 3;
  int patch_parts = 12;
  int margin = 10;
  int photo_weight = 2;
};

// ink_map (ink.cpp): the paper's light divided away.
struct InkTuning {
  int quarter_from = 200;
  int half_from = 60;
  int closing_parts = 4;
  int min_closing = 15;
  int max_closing = 301;
};

// writing_reduction and writing_part (size.cpp), and segment_image's second passes: the size
// writing is read at.
struct SizeTuning {
  int glance = 4;
  double glance_blur = 1.5;
  double comfortable_height = 56;
  double comfortable_stroke = 4;
  double small_height = 32;
  double part_min_height = 0.5;
  int part_max_height = 2;
  int part_pad_along = 6;
  int part_pad_across = 2;
  double max_part = 0.25;
  int closer = 2;
};

// binarise (binarise.cpp): ink or paper.
struct BinariseTuning {
  int smoothing = 3;
  double lowest_floor = 40;
  double highest_floor = 128;
  int floor_sigmas = 6;
  double low_above_median = 25.0;
  double low_share = 0.5;
  int faint_sigmas = 3;
  double faint_share = 0.75;
  double smoother_sigma = 1.0;
};

// remove_straight_lines and remove_frames (rules.cpp), and how often find_digits looks again.
struct RulesTuning {
  int coarse_from = 64;
  int passes = 3;
  int gap_parts = 40;
  int votes_parts = 4;
  double min_segment = 0.4;
  int max_slant = 15;
  double join_near = 2.5;
  double min_horizontal = 0.5;
  double min_vertical = 0.75;
  double lone_length = 0.9;
  int line_apart = 6;
  int apart_slack = 3;
  int max_run = 40;
  int thickness_samples = 15;
  int rule_samples = 31;
  double rule_length = 15.0;
  int own_run_slack = 2;
  double min_clean = 0.4;
  double max_wobble = 0.2;
  double extend = 0.05;
  double extend_px = 4.0;
  int erase_slack = 2;
  int bridge_per_width = 2;
  int bridge_slack = 5;
  int min_box = 16;
  std::size_t min_sides = 3;
  int side_band_parts = 8;
  int lean_parts = 12;
  double min_side = 0.8;
  double min_parting = 0.5;
};

// typical_height, merge_pieces and the drop_* (blobs.cpp): from blobs to candidate digits.
struct BlobsTuning {
  int speck = 4;
  int max_wide = 10;
  int max_tall = 25;
  double piece_height = 0.75;
  double piece_size = 0.15;
  double host_reach = 0.1;
  double flag_flatness = 1.5;
  double flag_top = 0.4;
  int flag_from_parts = 3;
  double flag_gap = 0.3;
  double merged_height = 1.5;
  double merged_width = 1.4;
  double merge_gap = 0.35;
  int min_digit_height = 8;
  double min_height = 0.4;
  double dash_aspect = 2.5;
  double dash_height = 0.5;
  double blot_height = 2.5;
  double max_fill = 0.92;
  double solid_aspect = 0.5;
  double solid_height = 0.5;
  double band_side = 0.5;
  int band_digits = 3;
  double min_band_digits = 1.5;
  int sliver_aspect = 4;
  double sliver_stroke = 0.6;
};

// group_lines (lines.cpp): text lines and reading order.
struct LinesTuning {
  double max_slope = 0.3;
  double full_height = 0.6;
  int pair_reach = 4;
  double level_spread = 0.15;
  double tolerance = 0.5;
  std::size_t min_sloped = 3;
};

// candidate_seams and may_hold_two (seams.cpp): where touching digits may part.
struct SeamsTuning {
  float entry = 1.5f;
  float side_step = 0.05f;
  float hug = 0.07f;
  double two_wide = 0.7;
  double two_leaning = 0.3;
  double search_height = 96.0;
  double step = 0.05;
  double margin = 0.12;
  double apart = 0.05;
};

// read_line and reading_score (reading.cpp): the prices of a line's reading, in units of the
// judge's log-probability.
struct ReadingTuning {
  double per_crossing = 0.6;
  double join = 0.6;
  double join_per_gap = 3.0;
  double too_wide = 1.5;
  double wide_from = 1.2;
  double far_too_wide = 3.0;
  double far_wide_from = 2.0;
  double too_short = 6.0;
  double short_from = 0.8;
  double per_digit = 0.2;
  double narrow_doubt = -2.5;
  double no_digit = -4.0;
  double max_gap = 0.12;
  double max_width = 2.3;
  std::size_t max_blobs = 8;
  double min_ink = 0.3;
  double unread = std::log(0.003);
  double per_seam_cost = 0.01;
  double temperature = 2.5;
  double lowest_score = std::log(1e-4);
};

// Every stage's: what SegmentOptions::tuning points to.
struct Tuning {
  PageTuning page;
  PolarityTuning polarity;
  InkTuning ink;
  SizeTuning size;
  BinariseTuning binarise;
  RulesTuning rules;
  BlobsTuning blobs;
  LinesTuning lines;
  SeamsTuning seams;
  ReadingTuning reading;
};

// The defaults, shared: what segmentation uses when SegmentOptions::tuning is empty.
const Tuning& default_tuning();

// Sets one tuned number by name: "stage.field=value" (as tuning_values names them). Throws Error
// on an unknown name (listing the names of that stage, or the stages) and on a value that is no
// finite number of the field's type (an integer for an int).
void set_tuning(Tuning& tuning, std::string_view assignment);

// Each tuned number in the table's order: its name ("stage.field"), its value in `tuning` (as
// set_tuning reads it back), and what it is and where its default came from.
struct TunedValue {
  std::string name, value, origin;
};
std::vector<TunedValue> tuning_values(const Tuning& tuning);

}  // namespace digits
