#!/usr/bin/python3
"""A small fake OpenAI-compatible server for tests (stdlib only).

Usage: fake_openai.py [--port N] [--no-logprobs] [--no-seed] [--key KEY]
Prints "PORT <n>" on its first line once it listens on 127.0.0.1 (port 0 = a free port).

Faults are scripted by the request itself, so concurrent tests stay deterministic: a chat
message (or batch line) containing "fault=KIND" or "fault=KIND*N" gets that fault on its first
N attempts (counted per exact request body; without *N on every attempt), then succeeds.
KIND: 400 401 408 409 429 429ms 429date 500 502 503 reset truncate slow drip malformed noretry
      ratelimit (remaining 0, reset 300ms) limits (limit-requests 600, limit-tokens 60000)
      batchfail expire batchinvalid (the whole batch fails validation);
in a fine-tuning training file: ftfail (the job fails on its second poll).
GET /_stats returns counters; POST /_reset clears them.
"""
import argparse
import email.utils
import hashlib
import json
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {
    "lock": threading.Lock(),
    "attempts": {},      # body hash -> attempts seen
    "requests": 0,
    "by_path": {},
    "files": {},         # id -> {"meta": {...}, "content": bytes}
    "jobs": {},          # id -> {"job": {...}, "polls": n, "events": [...]}
    "batches": {},       # id -> {"batch": {...}, "polls": n}
    "seq": 0,
    "auth_seen": [],
    "fingerprints": 0,
}
OPTS = None
FAULT_RE = re.compile(r"fault=([a-z0-9]+)(?:\*(\d+))?")


def next_id(prefix):
    with STATE["lock"]:
        STATE["seq"] += 1
        return "%s-%06d" % (prefix, STATE["seq"])


def fault_for(text, key):
    """Returns the fault kind to apply to this attempt of the request `key`, or None."""
    m = FAULT_RE.search(text)
    with STATE["lock"]:
        n = STATE["attempts"].get(key, 0) + 1
        STATE["attempts"][key] = n
    if not m:
        return None
    limit = int(m.group(2)) if m.group(2) else None
    if limit is not None and n > limit:
        return None
    return m.group(1)


def chat_completion(body):
    """Builds a deterministic chat completion for a request body (a dict)."""
    messages = body.get("messages") or []
    last = messages[-1].get("content", "") if messages else ""
    if isinstance(last, list):
        last = " ".join(p.get("text", "") for p in last if isinstance(p, dict))
    n = int(body.get("n") or 1)
    choices = []
    for i in range(n):
        text = "reply %d to: %s" % (i, last[:200])
        if "answer=" in last:
            text = last.split("answer=", 1)[1].split()[0]
        choice = {"index": i, "message": {"role": "assistant", "content": text},
                  "finish_reason": "stop"}
        if body.get("logprobs") and not OPTS.no_logprobs:
            k = int(body.get("top_logprobs") or 0)
            toks = []
            for j, tok in enumerate(text.split(" ")[:5]):
                top = [{"token": tok if r == 0 else "alt%d" % r, "logprob": -0.1 * (r + 1) - j * 0.01,
                        "bytes": None} for r in range(k)]
                toks.append({"token": tok, "logprob": -0.1 - j * 0.01, "bytes": None,
                             "top_logprobs": top})
            choice["logprobs"] = {"content": toks}
        else:
            choice["logprobs"] = None
        choices.append(choice)
    prompt_tokens = max(1, len(json.dumps(messages)) // 4)
    completion_tokens = sum(len(c["message"]["content"].split()) for c in choices)
    out = {"id": next_id("chatcmpl"), "object": "chat.completion", "created": int(time.time()),
           "model": body.get("model", "unknown"), "choices": choices,
           "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                     "total_tokens": prompt_tokens + completion_tokens}}
    if body.get("seed") is not None and not OPTS.no_seed:
        out["system_fingerprint"] = "fp_fake_%d" % (int(body["seed"]) % 7)
    return out


def parse_multipart(ctype, data):
    """Parses multipart/form-data into {name: (filename, bytes)}."""
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m:
        raise ValueError("no boundary")
    boundary = b"--" + m.group(1).encode()
    parts = {}
    for chunk in data.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, value = chunk.partition(b"\r\n\r\n")
        if value.endswith(b"\r\n"):
            value = value[:-2]
        disp = re.search(rb'name="([^"]*)"(?:; filename="([^"]*)")?', head)
        if not disp:
            raise ValueError("part without content-disposition name")
        fname = disp.group(2).decode() if disp.group(2) else None
        parts[disp.group(1).decode()] = (fname, value)
    return parts


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # ---- plumbing
    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_%s" % next_id("r"))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(self, status, message, etype="invalid_request_error", code=None,
                        headers=None):
        self.send_json(status, {"error": {"message": message, "type": etype, "param": None,
                                          "code": code}}, headers)

    def reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def count(self, path):
        with STATE["lock"]:
            STATE["requests"] += 1
            STATE["by_path"][path] = STATE["by_path"].get(path, 0) + 1
            STATE["auth_seen"].append(self.headers.get("Authorization", ""))
            del STATE["auth_seen"][:-20]

    def check_auth(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] != OPTS.key:
            key = auth[7:] if auth.startswith("Bearer ") else ""
            self.send_error_json(401, "Incorrect API key provided: %s. You can find your API key "
                                 "at https://platform.openai.com/account/api-keys." % key,
                                 code="invalid_api_key")
            return False
        return True

    def apply_fault(self, kind):
        """Sends the fault response; returns True when the request is fully handled."""
        if kind is None:
            return False
        if kind in ("400", "401", "408", "409", "500", "502", "503"):
            self.send_error_json(int(kind), "scripted fault %s" % kind,
                                 etype="server_error" if kind[0] == "5" else "invalid_request_error",
                                 code="fault_" + kind)
        elif kind == "429":
            self.send_error_json(429, "Rate limit reached (scripted)", etype="requests",
                                 code="rate_limit_exceeded", headers={"retry-after": "0.2"})
        elif kind == "429ms":
            self.send_error_json(429, "Rate limit reached (scripted)", etype="requests",
                                 code="rate_limit_exceeded", headers={"retry-after-ms": "150"})
        elif kind == "429date":
            when = email.utils.formatdate(time.time() + 1, usegmt=True)
            self.send_error_json(429, "Rate limit reached (scripted)", etype="requests",
                                 code="rate_limit_exceeded", headers={"retry-after": when})
        elif kind == "noretry":
            self.send_error_json(503, "overloaded, do not retry", etype="server_error",
                                 headers={"x-should-retry": "false"})
        elif kind == "reset":
            self.reset()
        elif kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"id": "chatcmpl-trunc", "choi')
            self.wfile.flush()
            self.reset()
        elif kind == "malformed":
            data = b'{"id": "chatcmpl-bad", "choices": [ this is not json'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif kind == "slow":
            time.sleep(OPTS.slow)
            return False
        elif kind == "drip":
            data = json.dumps(chat_completion({"model": "m", "messages": [
                {"role": "user", "content": "dripped"}]})).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            step = len(data) // 5 + 1
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                time.sleep(0.05)
        else:
            return False
        return True

    # ---- routing
    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        target = self.path
        if target.startswith("http://"):  # absolute form: we are being used as a proxy
            target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
            with STATE["lock"]:
                STATE["proxied"] = STATE.get("proxied", 0) + 1
        path, _, query = target.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        body = self.read_body()
        if path == "/_stats":
            with STATE["lock"]:
                out = {k: STATE[k] for k in ("requests", "by_path", "auth_seen")}
                out["proxied"] = STATE.get("proxied", 0)
            return self.send_json(200, out)
        if path == "/_reset":
            with STATE["lock"]:
                STATE["requests"] = 0
                STATE["by_path"] = {}
                STATE["attempts"] = {}
            return self.send_json(200, {"ok": True})
        self.count(path)
        if not self.check_auth():
            return None
        try:
            return self.dispatch(method, path, params, body)
        except (ValueError, KeyError) as e:
            return self.send_error_json(400, "bad request: %s" % e)

    def dispatch(self, method, path, params, body):
        if method == "POST" and path == "/v1/chat/completions":
            text = body.decode("utf-8", "replace")
            kind = fault_for(text, hashlib.sha256(body).hexdigest())
            if self.apply_fault(kind):
                return None
            req = json.loads(body)
            if "messages" not in req:
                raise KeyError("messages")
            headers = {}
            if kind == "ratelimit":
                headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "300ms"}
            elif kind == "limits":
                headers = {"x-ratelimit-limit-requests": "600", "x-ratelimit-limit-tokens": "60000",
                           "x-ratelimit-remaining-requests": "599", "x-ratelimit-remaining-tokens": "59000"}
            return self.send_json(200, chat_completion(req), headers)
        if method == "GET" and path == "/v1/models":
            return self.send_json(200, {"object": "list", "data": [
                {"id": "fake-model", "object": "model", "owned_by": "test"},
                {"id": "gpt-4o-mini-2024-07-18", "object": "model", "owned_by": "test"}]})
        m = re.fullmatch(r"/v1/files(?:/([^/]+))?(/content)?", path)
        if m:
            return self.files(method, m.group(1), m.group(2), params, body)
        m = re.fullmatch(r"/v1/fine_tuning/jobs(?:/([^/]+))?(?:/(events|cancel))?", path)
        if m:
            return self.jobs(method, m.group(1), m.group(2), params, body)
        m = re.fullmatch(r"/v1/batches(?:/([^/]+))?(?:/(cancel))?", path)
        if m:
            return self.batches(method, m.group(1), m.group(2), body)
        return self.send_error_json(404, "no route %s %s" % (method, path), code="not_found")

    # ---- files
    def files(self, method, fid, content, params, body):
        if method == "POST" and fid is None:
            parts = parse_multipart(self.headers.get("Content-Type", ""), body)
            purpose = parts["purpose"][1].decode()
            fname, data = parts["file"]
            if purpose not in ("fine-tune", "batch"):
                return self.send_error_json(400, "bad purpose %s" % purpose)
            for n, line in enumerate(data.splitlines(), 1):
                try:
                    json.loads(line)
                except ValueError:
                    return self.send_error_json(400, "file %s line %d is not JSON" % (fname, n))
            fid = next_id("file")
            meta = {"id": fid, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                    "filename": fname, "purpose": purpose, "status": "processed"}
            STATE["files"][fid] = {"meta": meta, "content": data}
            return self.send_json(200, meta)
        if method == "GET" and fid is None:
            data = [f["meta"] for f in STATE["files"].values()
                    if "purpose" not in params or f["meta"]["purpose"] == params["purpose"]]
            return self.send_json(200, {"object": "list", "data": data})
        if fid not in STATE["files"]:
            return self.send_error_json(404, "No such File object: %s" % fid, code="not_found")
        if method == "GET" and content:
            data = STATE["files"][fid]["content"]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        if method == "GET":
            return self.send_json(200, STATE["files"][fid]["meta"])
        if method == "DELETE":
            del STATE["files"][fid]
            return self.send_json(200, {"id": fid, "object": "file", "deleted": True})
        return self.send_error_json(405, "method not allowed")

    # ---- fine-tuning
    def jobs(self, method, jid, sub, params, body):
        if method == "POST" and jid is None:
            req = json.loads(body)
            if req.get("training_file") not in STATE["files"]:
                return self.send_error_json(400, "invalid training_file: %s" % req.get("training_file"))
            hp = ((req.get("method") or {}).get("supervised") or {}).get("hyperparameters") or {}
            resolved = {"n_epochs": hp.get("n_epochs", "auto"), "batch_size": hp.get("batch_size", "auto"),
                        "learning_rate_multiplier": hp.get("learning_rate_multiplier", "auto")}
            jid = next_id("ftjob")
            job = {"id": jid, "object": "fine_tuning.job", "model": req["model"], "status": "validating_files",
                   "training_file": req["training_file"], "validation_file": req.get("validation_file"),
                   "seed": req.get("seed", 42), "created_at": int(time.time()), "fine_tuned_model": None,
                   "hyperparameters": resolved,
                   "method": {"type": "supervised", "supervised": {"hyperparameters": resolved}},
                   "suffix": req.get("suffix"), "error": None, "trained_tokens": None}
            STATE["jobs"][jid] = {"job": job, "polls": 0, "events": []}
            self.add_event(jid, "Created fine-tuning job", "message", None)
            return self.send_json(200, job)
        if method == "GET" and jid is None:
            return self.send_json(200, {"object": "list", "has_more": False,
                                        "data": [j["job"] for j in STATE["jobs"].values()]})
        if jid not in STATE["jobs"]:
            return self.send_error_json(404, "no such job %s" % jid, code="not_found")
        entry = STATE["jobs"][jid]
        if sub == "events":
            events = list(reversed(entry["events"]))  # newest first, like the API
            if "after" in params:
                ids = [e["id"] for e in events]
                if params["after"] in ids:
                    events = events[:ids.index(params["after"])]
            limit = int(params.get("limit", 20))
            return self.send_json(200, {"object": "list", "data": events[:limit],
                                        "has_more": len(events) > limit})
        if sub == "cancel" and method == "POST":
            entry["job"]["status"] = "cancelled"
            return self.send_json(200, entry["job"])
        self.advance_job(jid)
        return self.send_json(200, entry["job"])

    def add_event(self, jid, message, etype, data):
        entry = STATE["jobs"][jid]
        entry["events"].append({"id": "ftevent-%s-%d" % (jid, len(entry["events"]) + 1),
                                "object": "fine_tuning.job.event", "created_at": int(time.time()),
                                "level": "info", "message": message, "type": etype, "data": data})

    def advance_job(self, jid):
        entry = STATE["jobs"][jid]
        job = entry["job"]
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return
        entry["polls"] += 1
        training = STATE["files"].get(job["training_file"], {}).get("content", b"")
        if entry["polls"] == 2 and b"fault=ftfail" in training:
            job["status"] = "failed"
            job["error"] = {"code": "invalid_training_file", "param": "training_file",
                            "message": "scripted: training file has too few examples"}
            self.add_event(jid, "Fine-tuning job failed", "message", None)
            return
        if entry["polls"] == 1:
            job["status"] = "running"
            hp = job["hyperparameters"]
            for k, v in (("n_epochs", 3), ("batch_size", 1), ("learning_rate_multiplier", 1.8)):
                if hp[k] == "auto":
                    hp[k] = v
            self.add_event(jid, "Fine-tuning job started", "message", None)
        elif entry["polls"] <= 3:
            base = (entry["polls"] - 2) * 2
            for step in (base + 1, base + 2):
                loss = 1.0 / step
                self.add_event(jid, "Step %d/4: training loss=%.4f" % (step, loss), "metrics",
                               {"step": step, "train_loss": loss, "total_steps": 4})
        else:
            job["status"] = "succeeded"
            job["fine_tuned_model"] = "ft:%s:fake::%s" % (job["model"], jid[-6:])
            job["trained_tokens"] = 1234
            self.add_event(jid, "The job has successfully completed", "message", None)

    # ---- batches
    def batches(self, method, bid, sub, body):
        if method == "POST" and bid is None:
            req = json.loads(body)
            fid = req.get("input_file_id")
            if fid not in STATE["files"]:
                return self.send_error_json(400, "invalid input_file_id %s" % fid)
            bid = next_id("batch")
            batch = {"id": bid, "object": "batch", "endpoint": req["endpoint"], "input_file_id": fid,
                     "completion_window": req.get("completion_window", "24h"), "status": "validating",
                     "output_file_id": None, "error_file_id": None, "metadata": req.get("metadata"),
                     "request_counts": {"total": 0, "completed": 0, "failed": 0}}
            STATE["batches"][bid] = {"batch": batch, "polls": 0}
            return self.send_json(200, batch)
        if method == "GET" and bid is None:
            return self.send_json(200, {"object": "list", "has_more": False,
                                        "data": [b["batch"] for b in STATE["batches"].values()]})
        if bid not in STATE["batches"]:
            return self.send_error_json(404, "no such batch %s" % bid, code="not_found")
        entry = STATE["batches"][bid]
        if sub == "cancel":
            entry["batch"]["status"] = "cancelled"
            return self.send_json(200, entry["batch"])
        self.advance_batch(entry)
        return self.send_json(200, entry["batch"])

    def advance_batch(self, entry):
        batch = entry["batch"]
        if batch["status"] not in ("validating", "in_progress"):
            return
        entry["polls"] += 1
        if entry["polls"] == 1:
            batch["status"] = "in_progress"
            return
        if b"fault=batchinvalid" in STATE["files"][batch["input_file_id"]]["content"]:
            batch["status"] = "failed"
            batch["errors"] = {"object": "list", "data": [
                {"code": "invalid_request", "message": "scripted invalid input", "line": 1}]}
            return
        out, err = [], []
        expired = False
        for line in STATE["files"][batch["input_file_id"]]["content"].splitlines():
            item = json.loads(line)
            text = json.dumps(item["body"])
            kind = fault_for(text, "batch:" + hashlib.sha256(text.encode()).hexdigest())
            if kind == "batchfail":
                err.append({"id": next_id("batch_req"), "custom_id": item["custom_id"],
                            "response": {"status_code": 500, "request_id": "req_x",
                                         "body": {"error": {"message": "scripted batch failure",
                                                            "type": "server_error"}}},
                            "error": None})
            elif kind == "expire":
                expired = True
                err.append({"id": next_id("batch_req"), "custom_id": item["custom_id"], "response": None,
                            "error": {"code": "batch_expired",
                                      "message": "This request could not be executed before the "
                                                 "completion window expired."}})
            else:
                out.append({"id": next_id("batch_req"), "custom_id": item["custom_id"],
                            "response": {"status_code": 200, "request_id": "req_y",
                                         "body": chat_completion(item["body"])}, "error": None})
        for name, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                fid = next_id("file")
                data = "".join(json.dumps(r) + "\n" for r in rows).encode()
                STATE["files"][fid] = {"meta": {"id": fid, "object": "file", "bytes": len(data),
                                                "purpose": "batch_output", "filename": fid + ".jsonl"},
                                       "content": data}
                batch[name] = fid
        batch["request_counts"] = {"total": len(out) + len(err), "completed": len(out), "failed": len(err)}
        batch["status"] = "expired" if expired else "completed"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def handle_error(self, request, client_address):
        """Client disconnects are part of the scripted faults: stay quiet about them."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    global OPTS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--no-logprobs", action="store_true")
    ap.add_argument("--no-seed", action="store_true")
    ap.add_argument("--key", default="sk-test-SECRET-0123456789")
    ap.add_argument("--slow", type=float, default=0.5)
    OPTS = ap.parse_args()
    srv = Server(("127.0.0.1", OPTS.port), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
