#include "cli/client/context_store.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <regex>

#include "cli/app/errors.hpp"
#include "cli/util/files.hpp"

namespace berth::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr const char* kEndpoint = "docker";  // docker's endpoint name, kept for compatibility
const char* const kTlsFiles[] = {"ca.pem", "cert.pem", "key.pem"};
constexpr size_t kMaxImport = 10u << 20;  // docker's limit too

void make_private_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
}

std::string get_string(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string context_dir_name(const std::string& name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(name.data(), name.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

void ContextStore::validate_name(const std::string& name) {
  if (name.empty()) throw StatusError("context name cannot be empty", 1);
  if (name == "default") throw StatusError("\"default\" is a reserved context name", 1);
  static const std::regex pattern("^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$");
  if (!std::regex_match(name, pattern))
    throw StatusError("context name \"" + name +
                          "\" is invalid, names are validated against regexp "
                          "\"^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$\"",
                      1);
}

fs::path ContextStore::meta_dir(const std::string& name) const {
  return dir_ / "contexts" / "meta" / context_dir_name(name);
}

fs::path ContextStore::tls_dir(const std::string& name) const {
  return dir_ / "contexts" / "tls" / context_dir_name(name);
}

std::string ContextStore::encode_meta(const ContextMeta& m) {
  json::object endpoint{{"Host", m.host}, {"SkipTLSVerify", m.skip_tls_verify}};
  json::object metadata;
  if (!m.description.empty()) metadata["Description"] = m.description;
  json::object root{{"Name", m.name},
                    {"Metadata", std::move(metadata)},
                    {"Endpoints", json::object{{kEndpoint, std::move(endpoint)}}}};
  return json::serialize(root);
}

ContextMeta ContextStore::decode_meta(const std::string& text, const std::string& where) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) throw StatusError("invalid context metadata in " + where, 1);
  const json::object& o = v.as_object();
  ContextMeta m;
  m.name = get_string(o, "Name");
  if (auto* md = o.if_contains("Metadata"); md && md->is_object())
    m.description = get_string(md->as_object(), "Description");
  if (auto* eps = o.if_contains("Endpoints"); eps && eps->is_object()) {
    if (auto* ep = eps->as_object().if_contains(kEndpoint); ep && ep->is_object()) {
      m.host = get_string(ep->as_object(), "Host");
      if (auto* skip = ep->as_object().if_contains("SkipTLSVerify"); skip && skip->is_bool())
        m.skip_tls_verify = skip->as_bool();
    }
  }
  return m;
}

std::vector<ContextMeta> ContextStore::list() const {
  std::vector<ContextMeta> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ / "contexts" / "meta", ec)) {
    auto text = read_file_if_exists(entry.path() / "meta.json");
    if (!text) continue;
    out.push_back(decode_meta(*text, (entry.path() / "meta.json").string()));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

std::optional<ContextMeta> ContextStore::get(const std::string& name) const {
  if (name.empty()) return std::nullopt;
  fs::path file = meta_dir(name) / "meta.json";
  auto text = read_file_if_exists(file);
  if (!text) return std::nullopt;
  return decode_meta(*text, file.string());
}

void ContextStore::save(const ContextMeta& meta, const ContextTls& tls) {
  fs::path mdir = meta_dir(meta.name);
  std::error_code ec;
  fs::create_directories(mdir, ec);
  if (ec) throw std::runtime_error("cannot create " + mdir.string() + ": " + ec.message());
  // TLS first: a context whose metadata exists is complete.
  fs::path tdir = tls_dir(meta.name);
  fs::remove_all(tdir, ec);
  if (!tls.empty()) {
    fs::path edir = tdir / kEndpoint;
    make_private_dirs(edir);
    ::chmod(tdir.c_str(), 0700);
    const std::string* contents[] = {&tls.ca, &tls.cert, &tls.key};
    for (int i = 0; i < 3; ++i)
      if (!contents[i]->empty()) write_file_atomic(edir / kTlsFiles[i], *contents[i], 0600);
  }
  write_file_atomic(mdir / "meta.json", encode_meta(meta), 0644);
}

void ContextStore::remove(const std::string& name) {
  if (!get(name)) throw StatusError("context \"" + name + "\" does not exist", 1);
  std::error_code ec;
  fs::remove_all(meta_dir(name), ec);
  if (ec) throw std::runtime_error("cannot remove context \"" + name + "\": " + ec.message());
  fs::remove_all(tls_dir(name), ec);
  if (ec)
    throw std::runtime_error("cannot remove TLS material of \"" + name + "\": " + ec.message());
}

std::map<std::string, fs::path> ContextStore::tls_files(const std::string& name) const {
  std::map<std::string, fs::path> out;
  for (const char* f : kTlsFiles) {
    fs::path p = tls_dir(name) / kEndpoint / f;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) out[f] = p;
  }
  return out;
}

TlsConfig ContextStore::tls_config(const ContextMeta& meta) const {
  TlsConfig c;
  c.origin = "context \"" + meta.name + "\"";
  auto files = tls_files(meta.name);
  if (files.empty() && !meta.skip_tls_verify) return c;
  c.enabled = true;
  c.verify = !meta.skip_tls_verify;
  if (auto it = files.find("ca.pem"); it != files.end() && c.verify) c.ca_file = it->second;
  if (files.count("cert.pem") && files.count("key.pem")) {
    c.cert_file = files["cert.pem"];
    c.key_file = files["key.pem"];
  }
  return c;
}

std::string ContextStore::current() const {
  auto text = read_file_if_exists(config_file());
  if (!text) return "";
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object())
    throw StatusError("invalid config file " + config_file().string() + ": not a JSON object", 1);
  return get_string(v.as_object(), "currentContext");
}

void ContextStore::set_current(const std::string& name) {
  json::object o;
  if (auto text = read_file_if_exists(config_file())) {
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec || !v.is_object())
      throw StatusError("invalid config file " + config_file().string() + ": not a JSON object", 1);
    o = std::move(v.as_object());
  }
  if (name.empty() || name == "default")
    o.erase("currentContext");
  else
    o["currentContext"] = name;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
  write_file_atomic(config_file(), json::serialize(o), 0600);
}

// ---------------------------------------------------------------------------------------------
// export / import

namespace {

class ArchiveWriter {
 public:
  ArchiveWriter() : a_(archive_write_new()) {
    archive_write_set_format_pax_restricted(a_);
    archive_write_open(a_, &out_, nullptr, &ArchiveWriter::write_cb, nullptr);
  }
  ~ArchiveWriter() { archive_write_free(a_); }
  void add(const std::string& name, const std::string* data, int mode) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, data ? AE_IFREG : AE_IFDIR);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, data ? static_cast<la_int64_t>(data->size()) : 0);
    archive_entry_set_mtime(e, 0, 0);
    if (archive_write_header(a_, e) != ARCHIVE_OK) fail();
    if (data && archive_write_data(a_, data->data(), data->size()) < 0) fail();
    archive_entry_free(e);
  }
  std::string finish() {
    if (archive_write_close(a_) != ARCHIVE_OK) fail();
    return std::move(out_);
  }

 private:
  static la_ssize_t write_cb(archive*, void* self, const void* buf, size_t n) {
    static_cast<std::string*>(self)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  }
  [[noreturn]] void fail() {
    throw std::runtime_error(std::string("cannot write the context archive: ") +
                             archive_error_string(a_));
  }
  archive* a_;
  std::string out_;
};

}  // namespace

std::string ContextStore::export_tar(const std::string& name) const {
  auto meta = get(name);
  if (!meta) throw StatusError("context \"" + name + "\" does not exist", 1);
  ArchiveWriter w;
  std::string meta_json = encode_meta(*meta);
  w.add("meta.json", &meta_json, 0644);
  w.add("tls", nullptr, 0700);
  auto files = tls_files(name);
  if (!files.empty()) {
    w.add(std::string("tls/") + kEndpoint, nullptr, 0700);
    for (const auto& [file, path] : files) {
      auto data = read_file_if_exists(path);
      if (data) w.add(std::string("tls/") + kEndpoint + "/" + file, &*data, 0600);
    }
  }
  return w.finish();
}

void ContextStore::import_tar(const std::string& name, const std::string& data) {
  validate_name(name);
  if (get(name)) throw StatusError("context \"" + name + "\" already exists", 1);
  if (data.size() > kMaxImport) throw StatusError("context archive too large (over 10 MiB)", 1);
  // docker's own `context export` closes its stream before the tar writer, so its archives
  // lack the last block's padding and the end-of-archive blocks (Go's reader shrugs). Complete
  // them: zeros past a proper end are ignored.
  std::string padded = data;
  padded.resize((padded.size() + 511) / 512 * 512 + 1024, '\0');
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  auto free_archive = [&] { archive_read_free(a); };
  if (archive_read_open_memory(a, padded.data(), padded.size()) != ARCHIVE_OK) {
    std::string err = archive_error_string(a) ? archive_error_string(a) : "unreadable";
    free_archive();
    throw StatusError("invalid context archive: " + err, 1);
  }
  std::optional<ContextMeta> meta;
  ContextTls tls;
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string path = archive_entry_pathname(e);
    if (path.starts_with("./")) path = path.substr(2);
    std::string body;
    char buf[8192];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
      body.append(buf, static_cast<size_t>(n));
    if (path == "meta.json") {
      meta = decode_meta(body, "the archive's meta.json");
    } else if (path == std::string("tls/") + kEndpoint + "/ca.pem") {
      tls.ca = body;
    } else if (path == std::string("tls/") + kEndpoint + "/cert.pem") {
      tls.cert = body;
    } else if (path == std::string("tls/") + kEndpoint + "/key.pem") {
      tls.key = body;
    } else if (!path.starts_with("tls/")) {
      free_archive();
      throw StatusError(path + ": unexpected context file", 1);
    }
  }
  bool bad = r != ARCHIVE_EOF;
  std::string err = bad && archive_error_string(a) ? archive_error_string(a) : "";
  free_archive();
  if (bad) throw StatusError("invalid context archive: " + err, 1);
  if (!meta) throw StatusError("invalid context: no metadata found", 1);
  meta->name = name;
  save(*meta, tls);
}

}  // namespace berth::cli
