#include "cli/format/tabwriter.hpp"

#include <algorithm>

#include "cli/util/strings.hpp"

namespace berth::cli {

void TabWriter::write(std::string_view text) {
  for (char ch : text) {
    if (ch == '\t' || ch == '\n') {
      lines_.back().push_back(Cell{cell_, display_width(cell_)});
      cell_.clear();
      if (ch == '\n') {
        size_t ncells = lines_.back().size();
        lines_.emplace_back();
        // A one-cell line cannot affect the layout of later lines: flush what we have.
        if (ncells == 1) flush_lines();
      }
    } else {
      cell_ += ch;
    }
  }
}

void TabWriter::write_lines(size_t line0, size_t line1) {
  for (size_t i = line0; i < line1; ++i) {
    auto& line = lines_[i];
    for (size_t j = 0; j < line.size(); ++j) {
      out_ += line[j].text;
      if (j < widths_.size() && widths_[j] > line[j].width)
        out_.append(widths_[j] - line[j].width, ' ');
    }
    // The last buffered line has no newline yet (it is still being written).
    if (i + 1 < lines_.size()) out_ += '\n';
  }
}

// Go's tabwriter.format: finds each column block, computes its width, recurses for the
// columns to its right.
void TabWriter::format_lines(size_t line0, size_t line1) {
  const long column = static_cast<long>(widths_.size());
  for (size_t cur = line0; cur < line1; ++cur) {
    if (column >= static_cast<long>(lines_[cur].size()) - 1) continue;
    write_lines(line0, cur);
    line0 = cur;
    size_t width = minwidth_;
    for (; cur < line1; ++cur) {
      auto& line = lines_[cur];
      if (column >= static_cast<long>(line.size()) - 1) break;
      width = std::max(width, line[column].width + padding_);
    }
    widths_.push_back(width);
    format_lines(line0, cur);
    widths_.pop_back();
    line0 = cur;
    if (cur >= line1) break;
  }
  write_lines(line0, line1);
}

void TabWriter::flush_lines() {
  format_lines(0, lines_.size());
  lines_.assign(1, {});
}

std::string TabWriter::flush() {
  if (!cell_.empty()) {
    lines_.back().push_back(Cell{cell_, display_width(cell_)});
    cell_.clear();
  }
  flush_lines();
  std::string out = std::move(out_);
  out_.clear();
  return out;
}

std::string tabulate(std::string_view text) {
  TabWriter w;
  w.write(text);
  return w.flush();
}

}  // namespace berth::cli
