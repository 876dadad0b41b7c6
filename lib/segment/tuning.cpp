#include "segment/tuning.hpp"

#include "base/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <type_traits>

namespace digits {

namespace {

// One row of the table: a field by name, read and set as text.
struct Tunable {
  std::string_view name;    // "stage.field"
  std::string_view origin;  // what it is, and where its default came from
  std::string (*get)(const Tuning&);
  void (*set)(Tuning&, std::string_view name, std::string_view value);  // throws Error on a bad value
};

template <class T>
std::string text_of(T value) {
  if constexpr (std::is_floating_point_v<T>) {
    std::array<char, 64> buffer{};
    const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;  // shortest exact
    return {buffer.data(), end};
  } else {
    return std::to_string(value);
  }
}

template <class T>
T value_of(std::string_view name, std::string_view text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool good = error == std::errc() && end == text.data() + text.size();
  if constexpr (std::is_floating_point_v<T>) good = good && std::isfinite(value);
  if (!good)
    throw Error(fmt::format("{}: \"{}\" is no {}", name, text,
                            std::is_floating_point_v<T> ? "finite number"
                            : std::is_signed_v<T>       ? "integer"
                                                        : "integer of 0 or more"));
  return value;
}

template <auto stage, auto field>
constexpr Tunable tuned(std::string_view name, std::string_view origin) {
  return {name, origin, [](const Tuning& t) { return text_of((t.*stage).*field); },
          [](Tuning& t, std::string_view name, std::string_view text) {
            auto& target = (t.*stage).*field;
            target = value_of<std::remove_reference_t<decltype(target)>>(name, text);
          }};
}

// A row: the field's name written once, as the member it is and as the text that names it.
#define DIGITS_TUNED(stage, field, origin) \
  tuned<&Tuning::stage, &decltype(Tuning::stage)::field>(#stage "." #field, origin)

// Every tuned number, stage by stage in the pipeline's order, and its origin in one line: what the
// number is, then where its value came from: bench-segment's figures (docs/BENCHMARKS.md; 1,000
// images a class at seed 7, "touching" the touching pairs), "swept" for read_line's prices, which
// were retuned several times with nothing that held at other seeds, "no figure" where none was
// recorded.
const auto table = std::to_array<Tunable>({
    DIGITS_TUNED(page, thumbnail, "shorter side (px) up to which a picture is no desk photo; at 100, desk 272 -> 261 of 300"),
    DIGITS_TUNED(page, desk_edge, "a frame edge darker than this share of the middle may be desk; no figure"),
    DIGITS_TUNED(page, desk_edges, "frame edges that dark before a sheet is looked for: a desk shows on two sides; no figure"),
    DIGITS_TUNED(page, glance_side, "the longer side (px) the sheet's outline is looked for at; no figure"),
    DIGITS_TUNED(page, blur, "Gaussian blur (px) before the sheet's level is found; no figure"),
    DIGITS_TUNED(page, level_step, "grey levels the sheet's level is lowered by per try (uneven light, shadows); no figure"),
    DIGITS_TUNED(page, min_sheet, "a sheet's hull covers at least this share of the picture; no figure"),
    DIGITS_TUNED(page, max_sheet, "and at most this share (a sheet filling the frame leaves no desk); no figure"),
    DIGITS_TUNED(page, min_solidity, "a sheet's outline fills at least this share of its hull; no figure"),
    DIGITS_TUNED(page, min_bright, "share of the hull bright before blurring (a bright ring, a bold 0, is no sheet); no figure"),
    DIGITS_TUNED(page, corner_tolerance, "approxPolyDP's tolerance over the hull's perimeter, for its corners; no figure"),
    DIGITS_TUNED(page, max_corners, "most corners of a sheet's outline, where the frame cuts it; no figure"),
    DIGITS_TUNED(page, max_inner_corners,
                 "most corners inside the frame: four, five where a side bends (a bold 0 has 7-8); no figure"),
    DIGITS_TUNED(page, max_framed_sides,
                 "frame sides a sheet may run out of (a lit part of a sheet runs out of three); no figure"),
    DIGITS_TUNED(page, max_desk, "the desk's mean level is at most this share of the paper's; no figure"),
    DIGITS_TUNED(page, edge_band,
                 "square (px, at the glance) either side of the sheet's edge its step is measured over; no figure"),
    DIGITS_TUNED(page, min_step,
                 "a sheet's edge steps down by this share of the paper's level (less: a soft shadow's edge); no figure"),
    DIGITS_TUNED(page, side_probe, "px (at the glance) either side of an outline's side its light is read at; no figure"),
    DIGITS_TUNED(page, shadow_reach, "share of width + height a sheet's edge is followed past a shadow's corner; no figure"),
    DIGITS_TUNED(page, shadow_step, "there the edge steps down by this share of the paper's level ...; no figure"),
    DIGITS_TUNED(page, desk_tolerance, "... to within this share of the paper's level of the desk; no figure"),
    DIGITS_TUNED(page, shade_tolerance, "the shaded paper there is the shade beyond the shadow's edge to this share; no figure"),
    DIGITS_TUNED(page, shade_above_desk,
                 "beyond a hard shadow's edge lies paper this share of the paper lighter than the desk; no figure"),
    DIGITS_TUNED(page, inset, "erosion (px, at the glance) of the sheet before the desk is painted with its paper; no figure"),
    DIGITS_TUNED(page, paper_closing, "closing (px, at the glance) taking the writing out of the paper's tone; no figure"),

    DIGITS_TUNED(polarity, photo_side,
                 "shorter side (px) from which a picture is a photo its writing may be a small part of; no figure"),
    DIGITS_TUNED(polarity, glance_side,
                 "shorter side (px) polarity is judged at: strokes fainter but leaning the same way; no figure"),
    DIGITS_TUNED(polarity, photo_glance_side,
                 "the same in a photo, where writing in one corner is a pixel tall at 75; with the framed-photo changes"),
    DIGITS_TUNED(polarity, surround_factor,
                 "the surroundings' median is taken this many times smaller (16 times fewer pixels); no figure"),
    DIGITS_TUNED(polarity, surround_parts, "the surroundings' median spans 1/n of the shorter side; no figure"),
    DIGITS_TUNED(polarity, patch_parts,
                 "in a photo ink departs from an opening 1/n across; in all pictures (a median) photo 97.8 -> 97.2%"),
    DIGITS_TUNED(polarity, margin, "departures (grey levels) below this are noise or gradients, not ink; no figure"),
    DIGITS_TUNED(polarity, photo_weight,
                 "in a photo light ink must outweigh dark this many times (dark on paper is the commoner); no figure"),

    DIGITS_TUNED(ink, quarter_from, "shorter side (px) from which the background is found at a quarter of the size; no figure"),
    DIGITS_TUNED(ink, half_from, "and at half the size from this; no figure"),
    DIGITS_TUNED(ink, closing_parts, "the background's closing spans 1/n of the shorter side: wider than any stroke; no figure"),
    DIGITS_TUNED(ink, min_closing, "that closing's least width (px); no figure"),
    DIGITS_TUNED(ink, max_closing, "and its greatest (px); no figure"),

    DIGITS_TUNED(size, glance, "writing_reduction looks at the writing this many times smaller; no figure"),
    DIGITS_TUNED(size, glance_blur, "px a stroke is wider at that glance than it is (the glance is blurred); no figure"),
    DIGITS_TUNED(size, comfortable_height,
                 "digits this tall (px) read as well smaller; at 48, touching and photo lost a few images in 1000"),
    DIGITS_TUNED(size, comfortable_stroke, "in strokes this wide (px), which keep their shape smaller; no figure"),
    DIGITS_TUNED(size, small_height,
                 "digits shorter (px) are read at twice their size: touching 93.6 -> 94.5%, grid 94.3 -> 95.8%; 26, 40 less"),
    DIGITS_TUNED(size, part_min_height, "blobs from this share of the digits' height mark where small writing lies; no figure"),
    DIGITS_TUNED(size, part_max_height, "up to this many digit heights (taller: a shadow's edge, the desk); no figure"),
    DIGITS_TUNED(size, part_pad_along,
                 "digit heights of room left and right of small writing for digits too faint to show; no figure"),
    DIGITS_TUNED(size, part_pad_across, "digit heights of room above and below it; no figure"),
    DIGITS_TUNED(size, max_part,
                 "small writing is read again from its part when that is at most this share of the picture; no figure"),
    DIGITS_TUNED(size, closer, "nothing found in a photo this many times the working side: looked for at that size; no figure"),

    DIGITS_TUNED(binarise, smoothing, "Gaussian blur (px) of the ink map before it is thresholded; no figure"),
    DIGITS_TUNED(binarise, lowest_floor, "ink stands at least this far (of 255) out of the paper: about 16% darker; no figure"),
    DIGITS_TUNED(binarise, highest_floor, "ink half as bright as the paper always is ink (ink filling a tight crop); no figure"),
    DIGITS_TUNED(binarise, floor_sigmas, "ink stands this many of the noise's deviations above the paper's median; no figure"),
    DIGITS_TUNED(binarise, low_above_median, "the hysteresis' low level is at most this far above the paper's median; no figure"),
    DIGITS_TUNED(binarise, low_share,
                 "and at least this share of the high level; lower for hairlines: writers +5 lines, grid 96.9 -> 90.9%"),
    DIGITS_TUNED(binarise, faint_sigmas,
                 "faint ink (faint rules are looked for in) stands this many deviations out ...; no figure"),
    DIGITS_TUNED(binarise, faint_share, "... or above this share of the low level; no figure"),
    DIGITS_TUNED(binarise, smoother_sigma,
                 "Gaussian sigma (px) of the smoother map a faint stroke stands out of; with the dim changes, 85.7 -> 89.8%"),

    DIGITS_TUNED(rules, coarse_from,
                 "pictures from this size (px a side) are first searched for a rule at half size, for speed; no figure"),
    DIGITS_TUNED(rules, passes, "searches for rules while ink still spans the page (a dense grid hides some lines); no figure"),
    DIGITS_TUNED(rules, gap_parts, "Hough's largest gap in a line: 1/n of the shorter side (3 px at least); no figure"),
    DIGITS_TUNED(rules, votes_parts, "Hough's threshold: 1/n of the shorter side (20 at least); no figure"),
    DIGITS_TUNED(rules, min_segment, "Hough's shortest segment: this share of the shorter side; no figure"),
    DIGITS_TUNED(rules, max_slant, "degrees a rule may lean off horizontal or vertical; no figure"),
    DIGITS_TUNED(rules, join_near,
                 "px a piece may lie off a segment's line and continue it (Hough splits slanted lines); no figure"),
    DIGITS_TUNED(rules, min_horizontal, "a horizontal rule spans this share of the width; no figure"),
    DIGITS_TUNED(rules, min_vertical, "a vertical one this share of the height (a tight crop's 1 reaches most of it); no figure"),
    DIGITS_TUNED(rules, lone_length, "a line with no parallel one spans this share of the picture; no figure"),
    DIGITS_TUNED(rules, line_apart, "px at least between distinct parallel lines ...; no figure"),
    DIGITS_TUNED(rules, apart_slack, "... and px more than the thickest is thick; no figure"),
    DIGITS_TUNED(rules, max_run, "longest run of ink (px) measured across a line; no figure"),
    DIGITS_TUNED(rules, thickness_samples, "points a line's thickness is measured at; no figure"),
    DIGITS_TUNED(rules, rule_samples, "points a rule's straightness is measured at; no figure"),
    DIGITS_TUNED(rules, rule_length,
                 "a rule is this many times as long as it is thick (digits on one base line are not); no figure"),
    DIGITS_TUNED(rules, own_run_slack,
                 "px a run may pass the thickness and still be the rule's own ink, no digit crossing; no figure"),
    DIGITS_TUNED(rules, min_clean, "share of the points that must be the rule's own ink; no figure"),
    DIGITS_TUNED(rules, max_wobble,
                 "a rule's middle strays at most this share of its thickness (1 px at least) off straight; no figure"),
    DIGITS_TUNED(rules, extend, "share of its length a segment is extended by at each end (Hough stops short) ...; no figure"),
    DIGITS_TUNED(rules, extend_px, "... and px more; no figure"),
    DIGITS_TUNED(rules, erase_slack, "px a line is erased wider than it is thick; no figure"),
    DIGITS_TUNED(rules, bridge_per_width, "a stroke crossing a line is bridged over this many line widths ...; no figure"),
    DIGITS_TUNED(rules, bridge_slack, "... and px more; no figure"),
    DIGITS_TUNED(rules, min_box, "px a box drawn around a digit is at least on each side; no figure"),
    DIGITS_TUNED(rules, min_sides, "sides of such a box that must be thin straight lines; no figure"),
    DIGITS_TUNED(rules, side_band_parts,
                 "a box's side is looked for within 1/n of the box from its edge (3 px at least); no figure"),
    DIGITS_TUNED(rules, lean_parts, "a side may drift 1/n of its length: a box turned by 5 degrees; no figure"),
    DIGITS_TUNED(rules, min_side, "a box's side runs this share of its length (a turned box's corners break it); no figure"),
    DIGITS_TUNED(rules, min_parting, "a line parting a row of boxes has ink in this share of the rows; no figure"),

    DIGITS_TUNED(blobs, speck, "blobs shorter than this (px) do not count for the typical height ...; no figure"),
    DIGITS_TUNED(blobs, max_wide,
                 "... nor blobs this many times wider than tall (chains of touching digits count) ...; no figure"),
    DIGITS_TUNED(blobs, max_tall, "... nor this many times taller than wide; no figure"),
    DIGITS_TUNED(blobs, piece_height, "a piece shorter than this share of a digit may join its neighbour ...; no figure"),
    DIGITS_TUNED(blobs, piece_size, "... if not smaller than this share on its longer side; no figure"),
    DIGITS_TUNED(blobs, host_reach, "digit heights a host is widened by on each side to overlap a piece; no figure"),
    DIGITS_TUNED(blobs, flag_flatness, "a 5's flag written apart is this many times wider than tall ...; no figure"),
    DIGITS_TUNED(blobs, flag_top, "... its bottom within this share of its host's height from the host's top ...; no figure"),
    DIGITS_TUNED(blobs, flag_from_parts, "... starting right of 1/n of its host's width ...; no figure"),
    DIGITS_TUNED(blobs, flag_gap, "... at most this many digit heights from its host; no figure"),
    DIGITS_TUNED(blobs, merged_height,
                 "a merged digit is at most this many digit heights tall (a 5's bar above its belly) ...; no figure"),
    DIGITS_TUNED(blobs, merged_width, "... and this many wide (a wide 5); no figure"),
    DIGITS_TUNED(blobs, merge_gap, "a piece lies at most this many digit heights above or below its host; no figure"),
    DIGITS_TUNED(blobs, min_digit_height, "working px a digit is at least tall: smaller is not legible; no figure"),
    DIGITS_TUNED(blobs, min_height, "share of the typical height a digit is at least (specks, dots, dashes); no figure"),
    DIGITS_TUNED(blobs, dash_aspect, "a mark this many times wider than tall ...; no figure"),
    DIGITS_TUNED(blobs, dash_height, "... and shorter than this share of a digit is an underline or a minus sign; no figure"),
    DIGITS_TUNED(blobs, blot_height, "blobs this many digit heights tall are blots and shadows; no figure"),
    DIGITS_TUNED(blobs, max_fill,
                 "a blob filling more of its box is a solid patch: a thick marker's digit fills ~90%, 0.85 dropped some"),
    DIGITS_TUNED(blobs, solid_aspect, "a solid patch is at least this share as wide as tall ...; no figure"),
    DIGITS_TUNED(blobs, solid_height, "... and taller than this share of a digit; no figure"),
    DIGITS_TUNED(blobs, band_side, "a band along the frame (the desk beside a sheet) runs this share of its side ...; no figure"),
    DIGITS_TUNED(blobs, band_digits,
                 "... or this many digit heights where that is shorter: no digit is that long ...; no figure"),
    DIGITS_TUNED(blobs, min_band_digits, "... and at least this many digit heights; no figure"),
    DIGITS_TUNED(blobs, sliver_aspect, "a sliver of a line is this many times longer than wide ...; no figure"),
    DIGITS_TUNED(blobs, sliver_stroke,
                 "... in strokes thinner than this share of the other blobs' (a 1 is in the same pen); no figure"),

    DIGITS_TUNED(lines, max_slope,
                 "steeper (dy/dx, about 17 degrees) is no line of writing but digits stacked out of line; no figure"),
    DIGITS_TUNED(lines, full_height,
                 "blobs from this share of a digit's height guide a line (not a fragment above or below it); no figure"),
    DIGITS_TUNED(lines, pair_reach, "neighbours within this many digit heights vote for the page's slope; no figure"),
    DIGITS_TUNED(lines, level_spread, "digit heights off level at which a pair's vote falls to 1/e; no figure"),
    DIGITS_TUNED(lines, tolerance,
                 "a digit joins a line within this share of a digit's height of where the line runs; no figure"),
    DIGITS_TUNED(lines, min_sloped, "lines of at least this many digits set the slope lines are ordered by; no figure"),

    DIGITS_TUNED(seams, entry,
                 "a seam's price for entering ink (0 to 1 a pixel): it runs along a junction, not across two strokes; no figure"),
    DIGITS_TUNED(seams, side_step, "a seam's price for a step sideways; no figure"),
    DIGITS_TUNED(seams, hug, "taken off a pixel of paper beside a stroke: touching 95.5 -> 96.2%, seed 23 97.0 -> 97.5%"),
    DIGITS_TUNED(seams, two_wide, "ink this share of a digit height wide may hold two digits side by side ...; no figure"),
    DIGITS_TUNED(seams, two_leaning, "... or this share, when the judge doubts it is one (two 1s leaning together); no figure"),
    DIGITS_TUNED(seams, search_height,
                 "px a blob is at most tall when searched for seams (the search costs the square); no figure"),
    DIGITS_TUNED(seams, step, "seams are tried through points this share of a digit height apart ...; no figure"),
    DIGITS_TUNED(seams, margin, "... not within this share of it of the blob's edges (2 px at least); no figure"),
    DIGITS_TUNED(seams, apart,
                 "a seam on average closer than this share of a digit height to a cheaper one adds nothing; no figure"),

    DIGITS_TUNED(reading, per_crossing,
                 "price of cutting a stroke (touching digits meet in one, a 0 has two); the prices swept: nothing held"),
    DIGITS_TUNED(reading, join, "price of one digit from two blobs the ink did not connect ...; swept"),
    DIGITS_TUNED(reading, join_per_gap, "... and per digit height of the gap between them; swept"),
    DIGITS_TUNED(reading, too_wide, "price per digit height of width beyond wide_from: two digits are wider than one; swept"),
    DIGITS_TUNED(reading, wide_from, "digit heights of width from which too_wide is paid; swept"),
    DIGITS_TUNED(reading, far_too_wide, "price per digit height of width beyond far_wide_from: no one digit is that wide; swept"),
    DIGITS_TUNED(reading, far_wide_from, "digit heights of width from which far_too_wide is paid; swept"),
    DIGITS_TUNED(reading, too_short, "price per digit height of height below short_from: a fragment, not a digit; swept"),
    DIGITS_TUNED(reading, short_from, "digit heights of height below which too_short is paid; swept"),
    DIGITS_TUNED(reading, per_digit,
                 "doubt about every extra digit: 1.0 -> 0.2 with a judge that learnt cut parts, touching 94.5 -> 95.1%"),
    DIGITS_TUNED(reading, narrow_doubt, "ink too narrow for two digits side by side is cut only when read this badly; no figure"),
    DIGITS_TUNED(reading, no_digit, "ink read this badly is surely no one digit: its seams may cross one stroke more; no figure"),
    DIGITS_TUNED(reading, max_gap,
                 "blobs further apart (digit heights) are never one digit: judging every pair would double the work"),
    DIGITS_TUNED(reading, max_width, "nor ink this many digit heights wide (a 2 with a long tail is 2); no figure"),
    DIGITS_TUNED(reading, max_blobs, "most blobs one digit is read from; no figure"),
    DIGITS_TUNED(reading, min_ink,
                 "a cut-off part with less ink than a stroke this many digit heights long is a sliver; no figure"),
    DIGITS_TUNED(reading, unread, "ink scored below this (log 0.003) is no digit at all; with the dim changes, 85.7 -> 89.8%"),
    DIGITS_TUNED(reading, per_seam_cost,
                 "price per unit of a seam's cost (a stroke crossed, ~2.5): of two sure readings the thinner cut; swept"),
    DIGITS_TUNED(reading, temperature,
                 "the judge's outputs softened for scoring: touching 96.2 -> 97.0%; 2 and 3 alike, 1.5 and 4 worse than 1"),
    DIGITS_TUNED(reading, lowest_score,
                 "the least a reading scores at temperature 1 (log 1e-4), so no one reading costs without bound; no figure"),
});

#undef DIGITS_TUNED

std::string names_of(std::string_view stage) {
  std::string out;
  std::string_view last;
  for (const auto& row : table) {
    const std::string_view prefix = row.name.substr(0, row.name.find('.'));
    if (stage.empty() ? prefix == last : prefix != stage) continue;
    out += fmt::format("{}{}", out.empty() ? "" : ", ", stage.empty() ? prefix : row.name);
    last = prefix;
  }
  return out;
}

}  // namespace

const Tuning& default_tuning() {
  static const Tuning defaults;
  return defaults;
}

void set_tuning(Tuning& tuning, std::string_view assignment) {
  const auto equals = assignment.find('=');
  if (equals == std::string_view::npos)
    throw Error(fmt::format("\"{}\": a tuned number is set as stage.field=value", assignment));
  const std::string_view name = assignment.substr(0, equals), value = assignment.substr(equals + 1);
  const auto row = std::ranges::find(table, name, &Tunable::name);
  if (row != table.end()) return row->set(tuning, name, value);
  const std::string_view stage = name.substr(0, name.find('.'));
  const std::string fields = names_of(stage);
  if (fields.empty()) throw Error(fmt::format("no tuned number \"{}\"; the stages: {}", name, names_of({})));
  throw Error(fmt::format("no tuned number \"{}\"; those of {}: {}", name, stage, fields));
}

std::vector<TunedValue> tuning_values(const Tuning& tuning) {
  std::vector<TunedValue> out;
  out.reserve(table.size());
  for (const auto& row : table) out.push_back({std::string(row.name), row.get(tuning), std::string(row.origin)});
  return out;
}

}  // namespace digits
