#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::cli {

// Elastic tabstops exactly like Go's text/tabwriter as docker configures it
// (minwidth 10, tabwidth 1, padding 3, padchar ' ', no flags): cells end at '\t', a column
// block is the run of consecutive lines that have a cell in that column, and a line with a
// single cell flushes the layout so far.
class TabWriter {
 public:
  TabWriter(size_t minwidth = 10, size_t padding = 3) : minwidth_(minwidth), padding_(padding) {}
  void write(std::string_view text);
  // Formats everything buffered and returns it (the trailing partial line included).
  std::string flush();

 private:
  struct Cell {
    std::string text;
    size_t width = 0;
  };
  void format_lines(size_t line0, size_t line1);
  void write_lines(size_t line0, size_t line1);
  void flush_lines();
  size_t minwidth_, padding_;
  std::vector<std::vector<Cell>> lines_{{}};
  std::string cell_;
  std::vector<size_t> widths_;
  std::string out_;
};

// Convenience: run `text` through a docker-configured tabwriter.
std::string tabulate(std::string_view text);

}  // namespace berth::cli
