// URLs of the HTTP client's requests (api/http/url): what is accepted, what is refused and why.
#include <gtest/gtest.h>

#include <string>

#include "api/http/url.hpp"

namespace smppd::http {
namespace {

Url parsed(const std::string& text) {
  std::string error;
  auto url = parse_url(text, error);
  EXPECT_TRUE(url) << text << ": " << error;
  return url.value_or(Url{});
}

std::string refused(const std::string& text) {
  std::string error;
  EXPECT_FALSE(parse_url(text, error)) << text;
  return error;
}

TEST(HttpUrl, SplitsSchemeHostPortAndTarget) {
  const Url a = parsed("http://Example.COM/dlr?id=1&x=%20");
  EXPECT_FALSE(a.tls);
  EXPECT_EQ(a.host, "example.com");
  EXPECT_EQ(a.port, 80);
  EXPECT_EQ(a.target, "/dlr?id=1&x=%20");
  EXPECT_EQ(a.origin(), "http://example.com:80");
  EXPECT_EQ(a.host_header(), "example.com");

  const Url b = parsed("HTTPS://hooks.example.com:8443");
  EXPECT_TRUE(b.tls);
  EXPECT_EQ(b.port, 8443);
  EXPECT_EQ(b.target, "/");
  EXPECT_EQ(b.host_header(), "hooks.example.com:8443");

  const Url c = parsed("https://[::1]:9000?q#frag");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.target, "/?q");
  EXPECT_EQ(c.origin(), "https://[::1]:9000");
  EXPECT_EQ(c.host_header(), "[::1]:9000");

  EXPECT_EQ(parsed("https://10.0.0.1:443/a").host_header(), "10.0.0.1");
}

TEST(HttpUrl, RefusesWhatItCannotSendSafely) {
  EXPECT_NE(refused("ftp://example.com/").find("http:// or https://"), std::string::npos);
  EXPECT_NE(refused("example.com/x").find("http:// or https://"), std::string::npos);
  EXPECT_NE(refused("http://user:pw@example.com/").find("credentials"), std::string::npos);
  EXPECT_NE(refused("http:///path").find("without a host"), std::string::npos);
  EXPECT_NE(refused("http://:80/").find("without a host"), std::string::npos);
  EXPECT_NE(refused("http://exa$mple.com/").find("host name"), std::string::npos);
  EXPECT_NE(refused("http://[::1/").find("IPv6"), std::string::npos);
  EXPECT_NE(refused("http://[]/").find("IPv6"), std::string::npos);
  EXPECT_NE(refused("http://[::1]x/").find("authority"), std::string::npos);
  for (const char* port : {"0", "65536", "", "8a", "123456"}) {
    EXPECT_NE(refused(std::string("http://example.com:") + port + "/").find("port"),
              std::string::npos)
        << port;
  }
  // Nothing that could end the request line or smuggle a header.
  EXPECT_NE(refused("http://example.com/a b").find("space"), std::string::npos);
  EXPECT_NE(refused("http://example.com/a\r\nX: y").find("control"), std::string::npos);
  EXPECT_NE(refused("http://example.com/\xc3\xa9").find("non-ASCII"), std::string::npos);
}

}  // namespace
}  // namespace smppd::http
