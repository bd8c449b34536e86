// /containers/{id}/exec and /exec/*: create, start (attached or detached), resize, inspect.
#include "core/api/handlers/exec_handlers.hpp"

#include <boost/json.hpp>

#include "core/api/body_schema.hpp"
#include "core/api/handlers/handler_util.hpp"
#include "core/api/stream_splice.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

using container::ContainerManager;

void handle_exec_start(ContainerManager& m, Request& req, ResponseWriter& res) {
  auto exec = m.find_exec(req.param("id"));
  if (!exec) return res.send_error(exec.error());
  auto body = req.read_json(exec_start_schema());
  if (!body) return res.send_error(body.error());
  bool detach = false;
  // dockerd frames the output by the start request's Tty, whatever the exec was created with
  // (docker-py's exec_start(tty=False) of a Tty exec reads stdcopy frames).
  bool tty = false;
  if (body->is_object()) {
    if (const auto* d = body->get_object().if_contains("Detach"); d != nullptr && d->is_bool()) detach = d->get_bool();
    if (const auto* t = body->get_object().if_contains("Tty"); t != nullptr && t->is_bool()) tty = t->get_bool();
  }
  bool process_tty = false;
  {
    auto c = m.find((*exec)->container_id);
    if (c) {
      std::lock_guard lock((*c)->mutex);
      if (const auto* t = (*exec)->config.if_contains("Tty"); t != nullptr && t->is_bool()) process_tty = t->get_bool();
    }
  }
  OutputFraming framing = tty == process_tty ? OutputFraming::kAsIs
                          : tty              ? OutputFraming::kUnframe
                                             : OutputFraming::kFrame;
  if (detach) {
    auto fd = m.exec_start(req.ctx(), *exec, false);
    if (!fd) return res.send_error(fd.error());
    return res.send(200, "", "");
  }
  bool want_stdin = false;
  if (const auto* s = (*exec)->config.if_contains("AttachStdin"); s != nullptr && s->is_bool()) want_stdin = s->get_bool();
  std::string keys_text;
  if (const auto* k = (*exec)->config.if_contains("DetachKeys"); k != nullptr && k->is_string()) {
    keys_text = std::string(k->get_string());
  }
  auto keys = parse_detach_keys(keys_text);
  if (!keys) return res.send_error(keys.error());
  auto hijack = res.hijack(tty ? "application/vnd.docker.raw-stream"
                               : "application/vnd.docker.multiplexed-stream");
  if (!hijack) return;
  auto fd = m.exec_start(req.ctx(), *exec, true);
  if (!fd) {
    // After the 101 the error travels in the stream; the exit code (126) is in exec inspect.
    write_frame(*hijack->transport, 1, fd.error().message + "\r\n", tty);
    return;
  }
  splice(*hijack->transport, std::move(hijack->leftover), fd->get(),
         SpliceOptions{want_stdin, process_tty, *keys, framing});
  fd->reset();
  // The docker CLI asks for the exit code right after EOF: it must be final by then.
  m.exec_wait_exit(*exec, 10000);
}

}  // namespace

void register_exec_routes(Router& router, ContainerManager& m) {
  auto* mgr = &m;
  router.add("POST", "/containers/{id}/exec", [mgr](Request& req, ResponseWriter& res) {
    auto body = req.read_json(exec_create_schema());
    if (!body) return res.send_error(body.error());
    if (!body->is_object()) return res.send_error(400, "exec config must be a JSON object");
    auto id = mgr->exec_create(req.param("id"), body->get_object());
    if (!id) return res.send_error(id.error());
    res.send_json(201, json::object{{"Id", *id}});
  });
  router.add("POST", "/exec/{id}/start", [mgr](Request& req, ResponseWriter& res) { handle_exec_start(*mgr, req, res); });
  router.add("POST", "/exec/{id}/resize", [mgr](Request& req, ResponseWriter& res) {
    auto h = req.query_int("h", 0);
    auto w = req.query_int("w", 0);
    if (!h || !w) return res.send_error(400, "invalid size");
    send_status(res, mgr->exec_resize(req.ctx(), req.param("id"), static_cast<uint32_t>(*h), static_cast<uint32_t>(*w)), 200);
  });
  router.add("GET", "/exec/{id}/json", [mgr](Request& req, ResponseWriter& res) {
    auto exec = mgr->find_exec(req.param("id"));
    if (!exec) return res.send_error(exec.error());
    auto c = mgr->find((*exec)->container_id);
    json::object out;
    if (c) {
      std::lock_guard lock((*c)->mutex);
      out = mgr->exec_inspect(**exec);
    } else {
      out = mgr->exec_inspect(**exec);
    }
    res.send_json(200, out);
  });
}

}  // namespace berth::core::api
