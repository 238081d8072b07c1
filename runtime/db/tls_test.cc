// The pool over TLS to a MariaDB that requires it (a CA the test makes):
// VERIFY_CA connects encrypted; plaintext and a server certificate from
// another CA are refused; settings that do not fit are errors naming the key.
#include <gtest/gtest.h>

#include "runtime/db/db.h"
#include "testing/fixtures/mariadb.h"

namespace op::db {
namespace {

class DbTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::MariaDbServer::Options o;
    o.tls = true;
    server_ = new testing::MariaDbServer(o);
    server_->Start();
  }
  static void TearDownTestSuite() { delete server_; }
  static DbOptions Options(const std::string& mode, const std::string& ca) {
    DbOptions o;
    o.port = server_->Port();
    o.user = server_->User();
    o.password = server_->Password();
    o.database = "tls_db";
    o.create_database = true;
    o.pool_size = 1;
    o.ssl_mode = mode;
    o.ssl_ca = ca;
    return o;
  }
  static std::string Cipher(ConnectionPool& pool) {
    auto rows = pool.Query("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    return rows.Next() ? rows.String("Value") : "";
  }
  static testing::MariaDbServer* server_;
};
testing::MariaDbServer* DbTlsTest::server_ = nullptr;

TEST_F(DbTlsTest, VerifyCaConnectsEncrypted) {
  ConnectionPool pool(Options("VERIFY_CA", server_->CaFile()));
  EXPECT_FALSE(Cipher(pool).empty()) << "the session is encrypted";
  ConnectionPool identity(Options("VERIFY_IDENTITY", server_->CaFile()));  // the certificate names 127.0.0.1
  EXPECT_FALSE(Cipher(identity).empty());
}

TEST_F(DbTlsTest, PlaintextAndAnUntrustedServerAreRefused) {
  auto encrypted_session = [](DbOptions o) {
    try {
      ConnectionPool pool(o);
      return !Cipher(pool).empty();
    } catch (const DbError&) {
      return false;
    }
  };
  EXPECT_FALSE(encrypted_session(Options("DISABLED", ""))) << "the server requires secure transport";
  EXPECT_FALSE(encrypted_session(Options("VERIFY_CA", server_->UntrustedCaFile()))) << "its certificate is not from this CA";
  EXPECT_TRUE(encrypted_session(Options("VERIFY_CA", server_->CaFile())));
}

TEST(DbTlsConfig, SettingsThatDoNotFitNameTheKey) {
  config::Schema s;
  DbOptions::DeclareSchema(s);
  auto error_of = [&](const std::string& yaml) {
    try {
      DbOptions::FromConfig(config::Config::Load(s, "mysql.database: d\n" + yaml, {}));
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("mysql.ssl-mode: STRICT\n").find("mysql.ssl-mode"), std::string::npos);
  EXPECT_NE(error_of("mysql.ssl-mode: VERIFY_CA\n").find("mysql.ssl-ca"), std::string::npos);
  EXPECT_NE(error_of("mysql: {ssl-mode: REQUIRED, ssl-ca: /nonexistent.pem}\n").find("no readable file"), std::string::npos);
  EXPECT_EQ(error_of("mysql.ssl-mode: REQUIRED\n"), "no error");
}

}  // namespace
}  // namespace op::db
