#include "runtime/auth/jwk.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace op::auth {

namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

std::string PemOf(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) throw std::runtime_error("cannot write a public key as PEM");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(n));
}

// A public key from OSSL parameters of `type` ("EC" or "RSA").
Pkey KeyFromParams(const char* type, OSSL_PARAM* params) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 || EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
    return nullptr;
  return Pkey(key);
}

std::optional<std::string> Field(const nlohmann::json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) return std::nullopt;
  return j[name].get<std::string>();
}

Bn BnOf(const std::string& bytes) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), int(bytes.size()), nullptr));
}

std::string BytesOf(const BIGNUM* bn, size_t width = 0) {
  std::string out(std::max<size_t>(width, size_t(BN_num_bytes(bn))), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), int(out.size()));
  return out;
}

std::optional<Jwk> Fail(std::string* error, const std::string& why) {
  if (error) *error = why;
  return std::nullopt;
}

}  // namespace

std::string Base64UrlEncode(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kAlphabet[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | (i + 1 < bytes.size() ? uint32_t(uint8_t(bytes[i + 1])) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (i + 1 < bytes.size()) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;  // padding and other alphabets are not base64url
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::optional<Jwk> ParseJwk(const nlohmann::json& j, std::string* error) {
  if (!j.is_object()) return Fail(error, "a JWK must be an object");
  auto kid = Field(j, "kid"), kty = Field(j, "kty");
  if (!kid || kid->empty() || kid->size() > 128) return Fail(error, "a JWK needs a kid of 1 to 128 characters");
  if (!kty) return Fail(error, "JWK " + *kid + " has no kty");
  if (auto use = Field(j, "use"); use && *use != "sig") return Fail(error, "JWK " + *kid + " is not a signing key");
  if (j.contains("d")) return Fail(error, "JWK " + *kid + " is a private key");
  auto alg = Field(j, "alg");
  Jwk out{*kid, "", ""};
  Pkey key;
  if (*kty == "EC") {
    auto crv = Field(j, "crv");
    auto x = Field(j, "x") ? Base64UrlDecode(*Field(j, "x")) : std::nullopt;
    auto y = Field(j, "y") ? Base64UrlDecode(*Field(j, "y")) : std::nullopt;
    if (!crv || *crv != "P-256") return Fail(error, "JWK " + *kid + ": only the P-256 curve is used");
    if (!x || !y || x->size() != 32 || y->size() != 32) return Fail(error, "JWK " + *kid + ": x and y must be 32 bytes");
    std::string point = "\x04" + *x + *y;
    ParamBld bld(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    Params params(OSSL_PARAM_BLD_to_param(bld.get()));
    key = KeyFromParams("EC", params.get());
    out.alg = "ES256";
  } else if (*kty == "RSA") {
    auto n = Field(j, "n") ? Base64UrlDecode(*Field(j, "n")) : std::nullopt;
    auto e = Field(j, "e") ? Base64UrlDecode(*Field(j, "e")) : std::nullopt;
    if (!n || !e || n->size() < 256 || n->size() > 1024 || e->empty() || e->size() > 8)
      return Fail(error, "JWK " + *kid + ": RSA keys need n of 2048 to 8192 bits and e");
    Bn bn_n = BnOf(*n), bn_e = BnOf(*e);
    ParamBld bld(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
    Params params(OSSL_PARAM_BLD_to_param(bld.get()));
    key = KeyFromParams("RSA", params.get());
    out.alg = "RS256";
  } else {
    return Fail(error, "JWK " + *kid + ": key type " + *kty + " is not used here");
  }
  if (alg && *alg != out.alg) return Fail(error, "JWK " + *kid + ": alg " + *alg + " does not match its key");
  if (!key) return Fail(error, "JWK " + *kid + ": not a valid public key");
  out.public_pem = PemOf(key.get());
  return out;
}

std::vector<Jwk> ParseJwks(const nlohmann::json& jwks) {
  std::vector<Jwk> out;
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) return out;
  for (const auto& k : jwks["keys"])
    if (auto jwk = ParseJwk(k)) out.push_back(std::move(*jwk));
  return out;
}

nlohmann::json PublicJwk(const std::string& pem, const std::string& kid) {
  Bio bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    bio.reset(BIO_new_mem_buf(pem.data(), int(pem.size())));
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!key) throw std::runtime_error("not a PEM key");
  if (EVP_PKEY_is_a(key.get(), "EC")) {
    BIGNUM *x = nullptr, *y = nullptr;
    EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    Bn bx(x), by(y);
    if (!bx || !by) throw std::runtime_error("cannot read the EC public point");
    return {{"kty", "EC"}, {"crv", "P-256"}, {"x", Base64UrlEncode(BytesOf(bx.get(), 32))},
            {"y", Base64UrlEncode(BytesOf(by.get(), 32))}, {"kid", kid}, {"alg", "ES256"}, {"use", "sig"}};
  }
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    BIGNUM *n = nullptr, *e = nullptr;
    EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e);
    Bn bn(n), be(e);
    if (!bn || !be) throw std::runtime_error("cannot read the RSA public key");
    return {{"kty", "RSA"}, {"n", Base64UrlEncode(BytesOf(bn.get()))}, {"e", Base64UrlEncode(BytesOf(be.get()))},
            {"kid", kid}, {"alg", "RS256"}, {"use", "sig"}};
  }
  throw std::runtime_error("only EC (P-256) and RSA keys are used");
}

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), int(bytes)) != 1) throw std::runtime_error("no randomness");
  return Base64UrlEncode(raw);
}

std::string NewPrivateKeyPem(const std::string& alg) {
  EVP_PKEY* key = alg == "RS256" ? EVP_RSA_gen(2048) : alg == "ES256" ? EVP_EC_gen("P-256") : nullptr;
  if (!key) throw std::runtime_error("cannot generate a " + alg + " key");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, size_t(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

}  // namespace op::auth
