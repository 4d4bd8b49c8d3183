#!/usr/bin/env python3
"""identityd under load: wrk against the release binary on SQLite, then on PostgreSQL + Redis.

Run through `make bench` (which builds the release binary and starts PostgreSQL and Redis with
scripts/with-services.sh). Seeds a tenant through the admin API, drives five scenarios with wrk and the Lua
scripts next to this file, samples the server's CPU time and RSS from /proc, measures the database's own
ceiling with pgbench, and writes a Markdown report (docs/benchmarks.md).
"""
import argparse, base64, json, os, platform, shutil, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.request, urllib.error, uuid
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
LUA = os.path.join(ROOT, "bench", "lua")
BINARY = os.path.join(ROOT, ".build", "release", "identityd")
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# Keycloak's sizing guide: one vCPU per this many requests per second.
KEYCLOAK_PER_VCPU = {"refresh": 120, "client_credentials": 120, "password": 15}

SCENARIOS = ["refresh", "dpop_refresh", "client_credentials", "password", "introspect", "jwks"]
# Proofs signed ahead per DPoP refresh run: more than the fastest run can send (a missing proof is a non-2xx).
DPOP_PROOFS_PER_SECOND = 8000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Server:
    """The release identityd on a free port with a temp data dir."""

    def __init__(self, store, cache=None):
        self.port = free_port()
        self.metrics_port = free_port()
        self.data = tempfile.mkdtemp(prefix="identityd-bench-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
        env.update(IDENTITY_PORT=str(self.port), IDENTITY_DATA_DIR=self.data, IDENTITY_LOG_LEVEL="warning", IDENTITY_METRICS_PORT=str(self.metrics_port),
                   IDENTITY_STORE=store)
        if store.startswith("postgres"):
            # PostgreSQL nodes must be given the master key (they never generate their own).
            env["IDENTITY_MASTER_KEY"] = base64.b64encode(b"\x42" * 32).decode()
        if cache:
            env["IDENTITY_CACHE"] = cache
        self.log = open(os.path.join(self.data, "server.log"), "w")
        self.process = subprocess.Popen([BINARY, "serve"], env=env, stdout=self.log, stderr=self.log)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                if http("GET", self.base + "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("identityd did not start: " + open(os.path.join(self.data, "server.log")).read())
        self.admin = open(os.path.join(self.data, "admin-token")).read().strip()

    def cpu_seconds(self):
        fields = open(f"/proc/{self.process.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def wait_idle(self, limit=90):
        """Waits until the server has finished what a run left queued (password hashes outlive wrk's requests)."""
        deadline = time.time() + limit
        while time.time() < deadline:
            before = self.cpu_seconds()
            time.sleep(0.5)
            if self.cpu_seconds() - before < 0.05:
                return

    def rss_mb(self):
        return int(open(f"/proc/{self.process.pid}/statm").read().split()[1]) * PAGE / 1e6

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


class Tenant:
    """A tenant with rate limits off (the benchmark is the only client), a client and a user."""

    def __init__(self, server, alerts=False):
        self.server = server
        self.id = "bench"
        policy = {"access_token_ttl": 3600, "refresh_reuse_grace": 10,
                  "rate_limit": {"token_requests_per_client": 0, "token_requests_per_ip": 0, "failed_logins_per_user": 0}}
        if alerts:
            # Every anomaly rule on (thresholds no run reaches): what watching the refreshes costs.
            policy["alerts"] = {"refresh_spike": {"max_refreshes": 1000000, "window": 60}, "new_ip_prefix": True, "new_user_agent": True,
                                "failed_refresh_ratio": {"ratio": 1, "min_samples": 1000000, "window": 300}}
        status, body = self.admin("POST", "/tenants", {"id": self.id, "name": "Benchmark", "policy": policy})
        assert status == 201, body
        self.key = json.loads(body)["admin_key"]
        status, body = self.admin("POST", f"/tenants/{self.id}/clients", {
            "client_id": "bench", "name": "Bench", "type": "confidential",
            "grant_types": ["password", "refresh_token", "client_credentials"], "scopes": ["openid", "api"]}, key=self.key)
        assert status == 201, body
        self.secret = json.loads(body)["client_secret"]
        self.password = "bench-password-" + uuid.uuid4().hex
        status, body = self.admin("POST", f"/tenants/{self.id}/users", {"username": "bench", "password": self.password}, key=self.key)
        assert status == 201, body
        self.auth = "Basic " + base64.b64encode(f"bench:{self.secret}".encode()).decode()
        self.token_path = f"/t/{self.id}/oauth/token"

    def admin(self, method, path, body, key=None):
        return http(method, self.server.base + "/admin/v1" + path, None if body is None else json.dumps(body).encode(),
                    {"Authorization": "Bearer " + (key or self.server.admin), "Content-Type": "application/json"})

    def token(self, form, headers=None):
        status, body = http("POST", self.server.base + self.token_path, form.encode(),
                            {"Authorization": self.auth, "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        assert status == 200, body
        return json.loads(body)

    def sessions(self, count):
        """Refresh tokens of `count` fresh sessions (password logins, in parallel)."""
        form = f"grant_type=password&username=bench&password={self.password}&scope=openid%20api"
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda _: self.token(form)["refresh_token"], range(count)))

    def bound_sessions(self, count):
        """`count` fresh sessions, each bound to a DPoP key of its own: (key, refresh token) pairs."""
        from dpop_proofs import ProofKey
        form = f"grant_type=password&username=bench&password={self.password}&scope=openid%20api"
        url = self.server.base + self.token_path

        def login(_):
            key = ProofKey()
            return key, self.token(form, {"DPoP": key.proof("POST", url, uuid.uuid4().hex)})["refresh_token"]
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(login, range(count)))


def wrk(server, tenant, scenario, connections, seconds, workdir):
    """One wrk run; returns its summary with the server's CPU seconds and peak RSS during it."""
    env = dict(os.environ, BENCH_LUA=LUA, BENCH_AUTH=tenant.auth, BENCH_THREADS="2")
    if scenario == "refresh":
        path = os.path.join(workdir, "tokens")
        with open(path, "w") as f:
            # Two spare sessions per wrk thread: wrk may ask for a request it then does not send (a reconnect).
            f.write("\n".join(tenant.sessions(connections + 4)) + "\n")
        env.update(BENCH_TOKENS=path, BENCH_PATH=tenant.token_path)
        script, url = "refresh.lua", server.base + tenant.token_path
    elif scenario == "dpop_refresh":
        sessions = tenant.bound_sessions(connections + 4)
        per_session = DPOP_PROOFS_PER_SECOND * (seconds + 2) // len(sessions) + 1
        url = server.base + tenant.token_path
        with open(os.path.join(workdir, "tokens"), "w") as f:
            f.write("".join(f"{key.thumbprint} {token}\n" for key, token in sessions))
        with open(os.path.join(workdir, "proofs"), "w") as f:
            for n, (key, _) in enumerate(sessions):
                f.write("".join(f"{key.thumbprint} {proof}\n" for proof in key.proofs("POST", url, per_session, f"{uuid.uuid4().hex}-{n}")))
        env.update(BENCH_TOKENS=os.path.join(workdir, "tokens"), BENCH_PROOFS=os.path.join(workdir, "proofs"), BENCH_PATH=tenant.token_path)
        script, url = "dpop_refresh.lua", url
    elif scenario == "jwks":
        env.update(BENCH_PATH=f"/t/{tenant.id}/jwks")
        script, url = "get.lua", server.base + f"/t/{tenant.id}/jwks"
    else:
        if scenario == "client_credentials":
            body, path = "grant_type=client_credentials&scope=api", tenant.token_path
        elif scenario == "password":
            body, path = f"grant_type=password&username=bench&password={tenant.password}", tenant.token_path
        else:
            access = tenant.token("grant_type=client_credentials&scope=api")["access_token"]
            body, path = "token=" + access, f"/t/{tenant.id}/oauth/introspect"
        body_file = os.path.join(workdir, "body")
        with open(body_file, "w") as f:
            f.write(body)
        env.update(BENCH_BODY_FILE=body_file, BENCH_PATH=path)
        script, url = "form.lua", server.base + path
    peak = [server.rss_mb()]
    sampling = [True]

    def sample():
        while sampling[0]:
            peak[0] = max(peak[0], server.rss_mb())
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    server.wait_idle()
    sampler.start()
    cpu_before = server.cpu_seconds()
    result = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s", "--latency",
                             "-s", os.path.join(LUA, script), url], env=env, capture_output=True, text=True)
    cpu = server.cpu_seconds() - cpu_before
    sampling[0] = False
    sampler.join()
    line = next((l for l in result.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {result.stdout}\n{result.stderr}")
    summary = json.loads(line[len("BENCH_JSON "):])
    if summary["non_2xx"] or summary["socket_errors"]:
        print(f"  {scenario} c={connections}: {summary['non_2xx']} non-2xx, {summary['socket_errors']} socket errors; {result.stderr.strip()[:500]}", flush=True)
        for kind in ("refresh_failed", "refresh_token_reused", "dpop_proof_refused", "login_failed", "client_auth_failed"):
            status, body = tenant.admin("GET", f"/tenants/{tenant.id}/events?type={kind}&limit=3", None)
            events = json.loads(body).get("items", []) if status == 200 else []
            if events:
                print(f"    {kind}: {[e.get('detail') for e in events]}", flush=True)
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    summary["cpu_per_1000"] = cpu / max(summary["requests"], 1) * 1000
    summary["cpu_cores"] = cpu / (summary["duration_us"] / 1e6)
    summary["peak_rss_mb"] = peak[0]
    return summary


def pgbench_ceiling(url, seconds):
    """pgbench, 16 clients, one transaction = UPDATE one row by primary key + INSERT one ~200-byte row."""
    bin_dir = os.environ.get("IDENTITY_TEST_POSTGRES_BIN", "")
    pgbench = os.path.join(bin_dir, "pgbench") if bin_dir else "pgbench"
    psql = ["psql", url, "-q", "-v", "ON_ERROR_STOP=1"]
    name = "pgbench_" + uuid.uuid4().hex[:8]
    subprocess.run(psql + ["-c", f"CREATE DATABASE {name}"], check=True)
    db = url.rsplit("/", 1)[0] + "/" + name
    subprocess.run(["psql", db, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    "CREATE TABLE tokens (id int PRIMARY KEY, state text NOT NULL, rotated_at timestamptz);"
                    "INSERT INTO tokens SELECT g, 'active', NULL FROM generate_series(1, 100000) g;"
                    "CREATE TABLE successors (id bigserial PRIMARY KEY, payload text NOT NULL);"], check=True)
    script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
    script.write("\\set id random(1, 100000)\nBEGIN;\nUPDATE tokens SET state = 'rotated', rotated_at = now() WHERE id = :id;\n"
                 "INSERT INTO successors (payload) VALUES (repeat('x', 200));\nEND;\n")
    script.close()
    result = subprocess.run([pgbench, "-n", "-c", "16", "-j", "2", "-T", str(seconds), "-f", script.name, db],
                            capture_output=True, text=True, check=True)
    tps = next(float(l.split("=")[1].split()[0]) for l in result.stdout.splitlines() if l.startswith("tps ="))
    return tps


def fresh_postgres_database(base):
    name = "bench_" + uuid.uuid4().hex[:8]
    subprocess.run(["psql", base, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"], check=True)
    return base.rsplit("/", 1)[0] + "/" + name


def median(values):
    return statistics.median(values) if values else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    parser.add_argument("--smoke", action="store_true", help="short runs; only asserts zero non-2xx")
    parser.add_argument("--alerts", action="store_true", help="the benchmark tenant with every anomaly rule on")
    args = parser.parse_args()
    if args.smoke:
        args.duration, args.warmup, args.runs, args.output = 3, 1, 1, None

    rows, ceilings = [], {}
    for store in args.stores.split(","):
        workdir = tempfile.mkdtemp(prefix="identityd-bench-run-")
        if store == "sqlite":
            server = Server("sqlite://" + os.path.join(workdir, "identity.db"))
        else:
            base = os.environ.get("IDENTITY_TEST_POSTGRES_URL")
            if not base:
                raise SystemExit("PostgreSQL benchmarks need IDENTITY_TEST_POSTGRES_URL: run through scripts/with-services.sh (make bench)")
            ceilings[store] = pgbench_ceiling(base, args.duration)
            print(f"pgbench ceiling: {ceilings[store]:.0f} tps", flush=True)
            server = Server(fresh_postgres_database(base), cache=os.environ.get("IDENTITY_TEST_REDIS_URL"))
        tenant = Tenant(server, alerts=args.alerts)
        try:
            for scenario in args.scenarios.split(","):
                for connections in [int(c) for c in args.connections.split(",")]:
                    wrk(server, tenant, scenario, connections, args.warmup, workdir)  # warm-up, not counted
                    runs = [wrk(server, tenant, scenario, connections, args.duration, workdir) for _ in range(args.runs)]
                    row = {"store": store, "scenario": scenario, "connections": connections,
                           "rps": median([r["rps"] for r in runs]), "p50_ms": median([r["p50_us"] for r in runs]) / 1000,
                           "p99_ms": median([r["p99_us"] for r in runs]) / 1000,
                           "non_2xx": sum(r["non_2xx"] + r["socket_errors"] for r in runs),
                           "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                           "cpu_per_1000": median([r["cpu_per_1000"] for r in runs]),
                           "cpu_cores": median([r["cpu_cores"] for r in runs]),
                           "all_rps": [round(r["rps"]) for r in runs]}
                    rows.append(row)
                    print(f"{store:8} {scenario:18} c={connections:<3} {row['rps']:9.0f} req/s  p50 {row['p50_ms']:6.2f} ms  "
                          f"p99 {row['p99_ms']:6.2f} ms  non-2xx {row['non_2xx']}  RSS {row['peak_rss_mb']:.0f} MB  "
                          f"CPU {row['cpu_per_1000']:.3f} s/1000  runs {row['all_rps']}", flush=True)
        finally:
            server.stop()
            shutil.rmtree(workdir, ignore_errors=True)

    table = report_table(rows, ceilings)
    print("\n" + table)
    failed = [r for r in rows if r["non_2xx"] > 0]
    if args.output:
        write_report(args, rows, ceilings, table)
    if failed:
        raise SystemExit(f"non-2xx answers in: {[(r['store'], r['scenario'], r['connections']) for r in failed]}")


def report_table(rows, ceilings):
    lines = ["| store | scenario | conns | req/s (median) | p50 ms | p99 ms | non-2xx | peak RSS MB | CPU s / 1000 req | req/s per core | Keycloak req/s per vCPU |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        per_core = r["rps"] / max(r["cpu_cores"], 0.01)
        keycloak = KEYCLOAK_PER_VCPU.get(r["scenario"], "—")
        lines.append(f"| {r['store']} | {r['scenario']} | {r['connections']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                     f"{r['non_2xx']} | {r['peak_rss_mb']:.0f} | {r['cpu_per_1000']:.3f} | {per_core:,.0f} | {keycloak} |")
    for store, tps in ceilings.items():
        best = max((r["rps"] for r in rows if r["store"] == store and r["scenario"] == "refresh"), default=0)
        lines.append(f"\n{store}: pgbench ceiling {tps:,.0f} tps (UPDATE by primary key + INSERT ~200 bytes, 16 clients); "
                     f"refresh rotation reaches {best:,.0f}/s = {best / tps * 100:.0f} % of it.")
    return "\n".join(lines)


def write_report(args, rows, ceilings, table):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    with open(args.output, "w") as f:
        f.write(f"""# Benchmarks

Written by `make bench` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). Machine: {os.cpu_count()} cores, {cpu};
wrk runs on the same machine (2 threads), so the server has less than all of it.

Each scenario: {args.warmup} s warm-up, then {args.runs} runs of {args.duration} s at each connection count; the table
gives the median requests/s, p50 and p99 latency, the sum of non-2xx answers and socket errors over the runs,
the server's peak RSS (sampled from /proc every 100 ms) and its CPU seconds per 1,000 requests (utime + stime
from /proc/<pid>/stat). "req/s per core" divides throughput by the CPU the server used, to compare with
Keycloak's sizing guide, which allots one vCPU per 120 refresh-token requests/s, per 120 client-credentials
grants/s and per 15 password logins/s (and about 1.25 GB of memory per pod).

Scenarios (Lua in `bench/lua`): `refresh` — each connection is one session presenting the refresh token of its
previous response (every request a real rotation, grace 10 s; scope `openid api`, so each one also reads the
user and signs an ID token); `dpop_refresh` — the same, but each session is bound to a P-256 key of its own and
every request carries a fresh DPoP proof of it (signed ahead by `bench/dpop_proofs.py`: wrk's Lua cannot sign);
`client_credentials`; `password` (Argon2id, m = 19 MiB, t = 2, p = 1: bound by the hash); `introspect` of a
valid access token; `jwks`. Rate limits are
off for the benchmark tenant. PostgreSQL runs with Redis (revocation cache), on the throw-away cluster of
`scripts/with-services.sh` (fsync off: the pgbench ceiling below is measured on the same cluster, same terms).

{table}

Reproduce: `make bench` (everything), or e.g.
`scripts/with-services.sh python3 bench/run.py --stores postgres --scenarios refresh --connections 64`.
What the profiles showed, what was changed, and the micro-benchmarks of the core: [performance.md](performance.md).
""")


if __name__ == "__main__":
    main()
