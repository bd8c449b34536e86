#include <gtest/gtest.h>

#include "cli/format/tabwriter.hpp"

namespace berth::cli {
namespace {

TEST(TabWriter, DockerPadding) {
  // Column widths: max(cell)+3, at least 10; the last cell is not padded.
  EXPECT_EQ(tabulate("REPOSITORY\tTAG\tSIZE\nbusybox\tlocal\t1.98MB\n"),
            "REPOSITORY   TAG       SIZE\n"
            "busybox      local     1.98MB\n");
}

TEST(TabWriter, EmptyCellsAndBlocks) {
  EXPECT_EQ(tabulate("a\t\tc\nlonger-cell\tb\tc\n"),
            "a                       c\n"
            "longer-cell   b         c\n");
}

TEST(TabWriter, SingleCellLineFlushes) {
  // A line with one cell ends the column block: later lines are aligned on their own.
  EXPECT_EQ(tabulate("aaaaaaaaaaaaaaa\tb\nheader\nc\td\n"),
            "aaaaaaaaaaaaaaa   b\nheader\nc         d\n");
}

TEST(TabWriter, Utf8WidthCountsRunes) {
  EXPECT_EQ(tabulate("\"sleep 300…\"\tx\nab\ty\n"), "\"sleep 300…\"   x\nab             y\n");
}

TEST(TabWriter, VersionStyle) {
  TabWriter w(20, 1);
  w.write("Client:\n Version:\t0.1.0\n API version:\t1.41\n");
  EXPECT_EQ(w.flush(), "Client:\n Version:           0.1.0\n API version:       1.41\n");
}

}  // namespace
}  // namespace berth::cli
