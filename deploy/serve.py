"""Serve a class from several app processes behind Debian's nginx, with sticky sessions.

    python deploy/serve.py --replicas 3 --port 8501        # `make serve REPLICAS=3`

Each replica is an ordinary `streamlit run` on its own loopback port. A Streamlit session lives in
one process's memory (its widgets, uploads, a training in progress), so every request of a browser
tab must reach the same replica: its page, its websocket, its uploads. Open-source nginx has no
sticky-cookie directive, so the recipe builds one from two it has: a cookie set on the first
response (its value the request's random id) and ``hash $cookie consistent`` upstream selection.
The same two rules work unchanged for replicas on several machines (list their addresses), and a
Kubernetes Ingress expresses them with cookie affinity (deploy/kubernetes.yaml).

Stops everything on Ctrl-C, or when the parent test ends (``start()`` returns a handle).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.capacity import SERVER_ENV  # noqa: E402  (needs the path above)

COOKIE = "gru_lab_route"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    client_max_body_size 40m;                      # the app's own caps are lower; it explains them

    # Sticky sessions: the route cookie, or (first request) this request's random id, which the
    # response then sets as the cookie, so every later request of the tab hashes to the same replica.
    map $cookie_{cookie} $route {{ "" $request_id; default $cookie_{cookie}; }}
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}

    upstream gru_gate_lab {{
        hash $route consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://gru_gate_lab;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;      # the page's websocket
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 1h;                       # a session's websocket stays open for the lesson
            add_header Set-Cookie "{cookie}=$route; Path=/; HttpOnly; SameSite=Lax";
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f} s")


@dataclass
class Cluster:
    url: str
    replica_urls: list[str]
    processes: list[subprocess.Popen] = field(default_factory=list)
    run_dir: Path | None = None

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def start(replicas: int = 2, port: int | None = None) -> Cluster:
    """Start ``replicas`` app processes and nginx in front of them; returns once all answer."""
    if not Path(NGINX).exists():
        raise RuntimeError("nginx is not installed: `make serve` installs it (apt-get install nginx-light)")
    run_dir = Path(tempfile.mkdtemp(prefix="gru_lab_nginx_"))
    env = {**SERVER_ENV, **os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    cluster = Cluster(url="", replica_urls=[], run_dir=run_dir)
    try:
        for _ in range(replicas):
            p = free_port()
            cluster.processes.append(subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"),
                 "--server.headless", "true", "--server.port", str(p), "--server.address", "127.0.0.1",
                 "--server.fileWatcherType", "none"], cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
            cluster.replica_urls.append(f"http://127.0.0.1:{p}")
        front = port or free_port()
        servers = "\n".join(f"        server {u.split('//')[1]};" for u in cluster.replica_urls)
        (run_dir / "nginx.conf").write_text(CONFIG.format(run=run_dir, servers=servers, port=front, cookie=COOKIE))
        for u in cluster.replica_urls:
            wait_healthy(u)
        cluster.processes.append(subprocess.Popen(
            [NGINX, "-p", str(run_dir), "-c", str(run_dir / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        cluster.url = f"http://127.0.0.1:{front}"
        wait_healthy(cluster.url, timeout=15)
        return cluster
    except BaseException:
        cluster.stop()
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("REPLICAS", 2)))
    parser.add_argument("--port", type=int, default=8501)
    args = parser.parse_args()
    cluster = start(args.replicas, args.port)
    print(f"GRU Gate Lab on {cluster.url} ({args.replicas} replicas: {', '.join(cluster.replica_urls)})")
    try:
        while all(p.poll() is None for p in cluster.processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
