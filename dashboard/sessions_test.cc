// The dashboard's sessions: lifetime, idle end, the cap, the cookie, the guards.
#include "dashboard/sessions.h"

#include <gtest/gtest.h>

namespace op::dashboard {
namespace {

using namespace std::chrono_literals;

http::Request WithCookie(const std::string& cookie) {
  http::Request r;
  r.headers.Set("Cookie", cookie);
  r.headers.Set("Host", "127.0.0.1:8090");
  return r;
}

TEST(Sessions, EndAfterTheirLifetimeOrWhenIdleAndAreBounded) {
  ManualClock clock;
  Sessions s({std::chrono::hours(8), std::chrono::minutes(30), 3}, clock);
  auto a = s.Create("admin", {"admin"});
  EXPECT_EQ(a.size(), 43u) << "256 random bits, base64url";
  EXPECT_NE(s.Create("viewer", {"viewer"}), a);
  clock.Advance(29min);
  ASSERT_TRUE(s.Find(a));
  clock.Advance(29min);
  EXPECT_TRUE(s.Find(a)) << "used within the idle timeout: still on";
  clock.Advance(31min);
  EXPECT_FALSE(s.Find(a)) << "idle too long";
  auto b = s.Create("admin", {"admin"});
  for (int i = 0; i < 16; ++i) {
    clock.Advance(29min);
    ASSERT_TRUE(s.Find(b)) << i;
  }
  clock.Advance(29min);
  EXPECT_FALSE(s.Find(b)) << "past its 8 h, however busy";
  for (int i = 0; i < 10; ++i) s.Create("u" + std::to_string(i), {"viewer"});
  EXPECT_EQ(s.Size(), 3u) << "bounded";
}

TEST(Sessions, TheCookieIsHttpOnlyStrictAndSecureBehindTls) {
  Sessions::Limits l;
  EXPECT_EQ(SessionCookie("abc", l, false), "dashboard_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800");
  EXPECT_NE(SessionCookie("abc", l, true).find("; Secure"), std::string::npos);
  EXPECT_EQ(SessionIdOf(WithCookie("theme=dark; dashboard_session=xyz; other=1")), "xyz");
  EXPECT_EQ(SessionIdOf(WithCookie("dashboard_sessionx=xyz")), std::nullopt);
}

TEST(Sessions, GuardsRefuseWithoutASessionAnActionFromElsewhereAndAViewersAction) {
  ManualClock clock;
  Sessions s({}, clock);
  auto status = [](auto&& f) {
    try {
      f();
    } catch (const http::HttpError& e) {
      return e.problem().status;
    }
    return 200;
  };
  EXPECT_EQ(status([&] { RequireSession(s, WithCookie("dashboard_session=forged")); }), 401);
  auto viewer = WithCookie("dashboard_session=" + s.Create("viewer", {"viewer"}));
  EXPECT_EQ(status([&] { RequireSession(s, viewer); }), 200);
  viewer.headers.Set("Content-Type", "application/json");
  viewer.headers.Set("Origin", "http://127.0.0.1:8090");
  EXPECT_EQ(status([&] { RequireAdminAction(s, viewer); }), 403) << "a viewer";
  auto admin = WithCookie("dashboard_session=" + s.Create("admin", {"admin"}));
  admin.headers.Set("Content-Type", "application/json");
  admin.headers.Set("Origin", "http://127.0.0.1:8090");
  EXPECT_EQ(status([&] { RequireAdminAction(s, admin); }), 200);
  admin.headers.Set("Origin", "http://evil.example");
  EXPECT_EQ(status([&] { RequireAdminAction(s, admin); }), 403) << "another site's page";
  admin.headers.Remove("origin");
  EXPECT_EQ(status([&] { RequireAdminAction(s, admin); }), 403) << "no Origin";
  admin.headers.Set("Origin", "http://127.0.0.1:8090");
  admin.headers.Set("Content-Type", "text/plain");
  EXPECT_EQ(status([&] { RequireAdminAction(s, admin); }), 415) << "a form post";
}

}  // namespace
}  // namespace op::dashboard
