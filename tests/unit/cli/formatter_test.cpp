#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli/commands/containers.hpp"
#include "cli/commands/images.hpp"
#include "cli/commands/stats.hpp"
#include "cli/format/formatter.hpp"

namespace berth::cli {
namespace {

namespace json = boost::json;

TEST(Formatter, TableWithHeaderEvenWithoutRows) {
  json::object header{{"A", "COL A"}, {"B", "B"}};
  EXPECT_EQ(render_rows("table {{.A}}\\t{{.B}}", {}, header), "COL A     B\n");
  std::vector<json::value> rows{json::object{{"A", "x"}, {"B", "y"}}};
  EXPECT_EQ(render_rows("table {{.A}}\\t{{.B}}", rows, header), "COL A     B\nx         y\n");
  EXPECT_EQ(render_rows("{{.A}}-{{.B}}", rows, header), "x-y\n");
  EXPECT_EQ(render_rows("json", rows, header), "{\"A\":\"x\",\"B\":\"y\"}\n");
}

TEST(Formatter, ImageRowsOnePerTag) {
  auto images = json::parse(R"([
    {"Containers":-1,"Created":1,"Id":"sha256:8976bd757d36aaaa","Labels":null,
     "RepoDigests":null,"RepoTags":["busybox:local","cap/bb:v1"],"SharedSize":-1,
     "Size":1984132},
    {"Id":"sha256:8547d36b170bbbbb","RepoTags":["<none>:<none>"],
     "RepoDigests":["<none>@<none>"],"Size":1990000,"Created":1}])");
  auto rows = image_rows(images.as_array(), true, false, false);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("Repository").as_string(), "busybox");
  EXPECT_EQ(rows[0].at("Tag").as_string(), "local");
  EXPECT_EQ(rows[0].at("ID").as_string(), "8976bd757d36");
  EXPECT_EQ(rows[0].at("Size").as_string(), "1.98MB");
  EXPECT_EQ(rows[1].at("Repository").as_string(), "cap/bb");
  EXPECT_EQ(rows[2].at("Repository").as_string(), "<none>");
  EXPECT_EQ(rows[2].at("Tag").as_string(), "<none>");
}

TEST(Formatter, Ports) {
  auto ports = json::parse(R"([
    {"IP":"127.0.0.1","PrivatePort":80,"PublicPort":18080,"Type":"tcp"},
    {"IP":"0.0.0.0","PrivatePort":81,"PublicPort":18081,"Type":"udp"},
    {"IP":"::","PrivatePort":81,"PublicPort":18081,"Type":"udp"}])");
  EXPECT_EQ(displayable_ports(ports),
            "127.0.0.1:18080->80/tcp, 0.0.0.0:18081->81/udp, [::]:18081->81/udp");
  auto grouped = json::parse(R"([{"PrivatePort":8000,"Type":"tcp"},
    {"PrivatePort":8001,"Type":"tcp"},{"PrivatePort":8002,"Type":"tcp"},
    {"PrivatePort":9000,"Type":"udp"}])");
  EXPECT_EQ(displayable_ports(grouped), "8000-8002/tcp, 9000/udp");
}

TEST(Formatter, ContainerRow) {
  auto c = json::parse(R"j({"Id":"b536be5c8119afdb2eca9eda36fa5dc014f57c511e98dc143c2f12aeaab96bad",
    "Names":["/cap-sleep"],"Image":"busybox:local","ImageID":"sha256:8976",
    "Command":"sh -c 'i=0; while true; do sleep 1; done'","Created":1,"State":"paused",
    "Status":"Up About a minute (Paused)","SizeRw":0,"SizeRootFs":1984132})j");
  auto r = container_row(c, true);
  EXPECT_EQ(r.at("ID").as_string(), "b536be5c8119");
  EXPECT_EQ(r.at("Command").as_string(), "\"sh -c 'i=0; while t…\"");
  EXPECT_EQ(r.at("Names").as_string(), "cap-sleep");
  EXPECT_EQ(r.at("Status").as_string(), "Up About a minute (Paused)");
  EXPECT_EQ(r.at("Size").as_string(), "0B (virtual 1.98MB)");
}

TEST(Formatter, RunErrorCodes) {
  EXPECT_EQ(run_error_code("exec: \"x\": executable file not found in $PATH"), 127);
  EXPECT_EQ(run_error_code("open /x: permission denied"), 126);
  EXPECT_EQ(run_error_code("No such image: x"), 125);
}

TEST(Stats, DockerFormulas) {
  auto s = json::parse(R"({"id":"b536be5c8119afdb","name":"/cap-sleep",
    "cpu_stats":{"cpu_usage":{"total_usage":2000},"system_cpu_usage":20000,"online_cpus":2},
    "precpu_stats":{"cpu_usage":{"total_usage":1000},"system_cpu_usage":10000},
    "memory_stats":{"usage":1000000,"limit":4000000,"stats":{"total_inactive_file":200000}},
    "networks":{"eth0":{"rx_bytes":1500,"tx_bytes":500}},
    "blkio_stats":{"io_service_bytes_recursive":[{"op":"Read","value":4096},
                                                 {"op":"Write","value":8192}]},
    "pids_stats":{"current":3}})");
  StatsEntry e = compute_stats(s);
  EXPECT_DOUBLE_EQ(e.cpu_percent, 20.0);
  EXPECT_DOUBLE_EQ(e.memory, 800000);
  auto row = stats_row(e, "cap-sleep", true);
  EXPECT_EQ(row.at("CPUPerc").as_string(), "20.00%");
  EXPECT_EQ(row.at("MemPerc").as_string(), "20.00%");
  EXPECT_EQ(row.at("Name").as_string(), "cap-sleep");
  EXPECT_EQ(row.at("NetIO").as_string(), "1.5kB / 500B");
  EXPECT_EQ(row.at("BlockIO").as_string(), "4.1kB / 8.19kB");
  EXPECT_EQ(row.at("PIDs").as_string(), "3");
}

}  // namespace
}  // namespace berth::cli
