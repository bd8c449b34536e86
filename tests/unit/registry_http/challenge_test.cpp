// registry.http's pure parsers: WWW-Authenticate challenges and Location arithmetic.
#include <gtest/gtest.h>

#include "challenge.hpp"

using namespace berth::plugins::registry_http;

TEST(Challenge, BearerWithQuotedParameters) {
  auto c = parse_challenges(
      R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].parameters["realm"], "https://auth.example/token");
  EXPECT_EQ(c[0].parameters["service"], "registry.example");
  EXPECT_EQ(c[0].parameters["scope"], "repository:a/b:pull,push");
}

TEST(Challenge, SeveralSchemesAndEscapes) {
  auto c = parse_challenges(R"(Basic realm="Registry \"x\"", Bearer realm="http://127.0.0.1:1/t")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].parameters["realm"], "Registry \"x\"");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].parameters["realm"], "http://127.0.0.1:1/t");
  EXPECT_TRUE(parse_challenges("").empty());
}

TEST(Url, ParsesAndResolvesLocations) {
  auto u = parse_url("http://127.0.0.1:5000/v2/a/blobs/uploads/?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "5000");
  EXPECT_EQ(u->target, "/v2/a/blobs/uploads/?x=1");
  EXPECT_EQ(parse_url("https://[::1]/x")->authority(), "[::1]");
  EXPECT_EQ(parse_url("https://h")->port, "443");
  EXPECT_FALSE(parse_url("ftp://h/x"));
  EXPECT_FALSE(parse_url("http://h:port/"));
  EXPECT_EQ(resolve_location(*u, "/v2/a/blobs/uploads/uuid")->string(),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/uuid");
  EXPECT_EQ(resolve_location(*u, "https://s3.example/b?sig=1")->string(), "https://s3.example/b?sig=1");
  EXPECT_EQ(resolve_location(*u, "//cdn.example/b")->string(), "http://cdn.example/b");
  EXPECT_EQ(resolve_location(*u, "uuid")->target, "/v2/a/blobs/uploads/uuid");
  EXPECT_EQ(query_escape("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
}

TEST(Link, TheNextPageOfATagListOrCatalog) {
  EXPECT_EQ(next_link(R"(</v2/a/tags/list?n=2&last=b>; rel="next")"), "/v2/a/tags/list?n=2&last=b");
  EXPECT_EQ(next_link(R"(<https://r.example/v2/_catalog?last=x&n=100>;rel=next)"),
            "https://r.example/v2/_catalog?last=x&n=100");
  // Several entries: only rel="next" counts, wherever it is.
  EXPECT_EQ(next_link(R"(</v2/a/tags/list?n=2>; rel="first", </v2/a/tags/list?n=2&last=d>; REL="next")"),
            "/v2/a/tags/list?n=2&last=d");
  EXPECT_EQ(next_link(R"(</v2/a/tags/list?n=2>; rel="prev")"), "");
  EXPECT_EQ(next_link(""), "");
  EXPECT_EQ(next_link("<unterminated; rel=\"next\""), "");
}
