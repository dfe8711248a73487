#include "ike/crypto/trust_store.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <vector>

#include "ike/crypto/openssl_util.hpp"

namespace dpvpn::ike {

namespace {
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;
// A stack that borrows its certificates: sk_X509_free does not free the elements (and is a macro).
struct X509StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;
}  // namespace

Status TrustStore::create(std::unique_ptr<TrustStore>* out) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return openssl_error("X509_STORE_new");
  out->reset(new TrustStore(store));
  return Status::ok();
}

TrustStore::~TrustStore() { X509_STORE_free(store_); }

Status TrustStore::add_ca(const Certificate& ca) {
  if (X509_STORE_add_cert(store_, ca.x509()) != 1) return openssl_error("adding CA " + ca.subject());
  return Status::ok();
}

Status TrustStore::add_ca_file(const std::string& path) {
  std::vector<Certificate> cas;
  if (Status st = Certificate::load_pem_file(path, &cas); !st) return st;
  for (const Certificate& ca : cas) {
    if (Status st = add_ca(ca); !st) return st;
  }
  return Status::ok();
}

Status TrustStore::verify(const Certificate& end_entity, std::span<const Certificate> intermediates) const {
  X509StackPtr untrusted(sk_X509_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!untrusted || !ctx) return openssl_error("X509_STORE_CTX_new");
  for (const Certificate& c : intermediates) {
    if (sk_X509_push(untrusted.get(), c.x509()) <= 0) return openssl_error("sk_X509_push");
  }
  if (X509_STORE_CTX_init(ctx.get(), store_, end_entity.x509(), untrusted.get()) != 1) {
    return openssl_error("X509_STORE_CTX_init");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Status(StatusCode::kInvalidArgument,
                  "certificate " + end_entity.subject() + ": " + X509_verify_cert_error_string(err));
  }
  return Status::ok();
}

}  // namespace dpvpn::ike
