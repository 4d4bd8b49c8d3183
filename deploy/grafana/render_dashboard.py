#!/usr/bin/env python3
"""Renders deploy/grafana/identityd-dashboard.json with real data into a PNG, without Grafana (Debian has no
package of it): the release binary under a few minutes of benchmark load (bench/run.py's scenarios with wrk,
plus refusals, a reuse, rate-limited requests, DPoP failures and security alerts), scraped by Debian's
Prometheus every 2 s; then every panel's PromQL is asked of Prometheus over the run and drawn with matplotlib
in the dashboard's layout.

    scripts/with-services.sh .venv-docs/bin/python deploy/grafana/render_dashboard.py docs/images/dashboard.png

Needs wrk, prometheus (/usr/bin or scripts/promtool.sh's unpacked copy) and matplotlib (pip)."""
import json, os, shutil, subprocess, sys, tempfile, time, urllib.parse, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import run as bench  # noqa: E402


def prometheus_binary():
    for path in ["/usr/bin/prometheus", os.path.join(ROOT, ".build/tools/prometheus/usr/bin/prometheus")]:
        if os.access(path, os.X_OK):
            return path
    raise SystemExit("prometheus not found: apt-get install prometheus, or run scripts/promtool.sh once")


def query_range(base, expr, start, end, step=4):
    url = f"{base}/api/v1/query_range?" + urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(url) as answer:
        return json.load(answer)["data"]["result"]


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "images", "dashboard.png")
    workdir = tempfile.mkdtemp(prefix="identityd-dashboard-")
    server = bench.Server("sqlite://" + os.path.join(workdir, "identity.db"))
    metrics_port = server.metrics_port
    tenant = bench.Tenant(server, alerts=True)
    prom_port = bench.free_port()
    config = os.path.join(workdir, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"global: {{scrape_interval: 2s}}\nscrape_configs:\n  - job_name: identityd\n"
                f"    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]\n")
    prometheus = subprocess.Popen([prometheus_binary(), f"--config.file={config}", f"--storage.tsdb.path={workdir}/tsdb",
                                   f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{prom_port}"
    try:
        time.sleep(4)
        start = time.time()
        for scenario, seconds in [("refresh", 25), ("dpop_refresh", 20), ("client_credentials", 15), ("introspect", 10), ("password", 15)]:
            bench.wrk(server, tenant, scenario, 16, seconds, workdir)
            # Between scenarios: some refusals — unknown refresh tokens, wrong passwords (a lockout), a reuse, a bad proof.
            form = {"Authorization": tenant.auth, "Content-Type": "application/x-www-form-urlencoded"}
            for _ in range(20):
                bench.http("POST", server.base + tenant.token_path, b"grant_type=refresh_token&refresh_token=rt_unknown", form)
                bench.http("POST", server.base + tenant.token_path, b"grant_type=password&username=mallory&password=wrong", form)
                bench.http("POST", server.base + tenant.token_path, b"grant_type=client_credentials", {**form, "DPoP": "not.a.proof"})
            login = tenant.token(f"grant_type=password&username=bench&password={tenant.password}&scope=openid%20api")
            tenant.token(f"grant_type=refresh_token&refresh_token={login['refresh_token']}")
            time.sleep(12)  # the grace window (10 s) passes: the old token is now reuse
            bench.http("POST", server.base + tenant.token_path, f"grant_type=refresh_token&refresh_token={login['refresh_token']}".encode(), form)
        time.sleep(6)
        end = time.time()
        render(base, start, end, output)
    finally:
        prometheus.terminate()
        prometheus.wait()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def render(base, start, end, output):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dashboard = json.load(open(os.path.join(ROOT, "deploy", "grafana", "identityd-dashboard.json")))
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] // 8 for p in panels) + 1
    figure, axes = plt.subplots(rows, 2, figsize=(16, 3.1 * rows))
    figure.suptitle(f"{dashboard['title']} — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(start))}, "
                    f"{int(end - start)} s of bench/run.py load on SQLite (deploy/grafana/render_dashboard.py)", fontsize=13)
    for panel in panels:
        ax = axes[panel["gridPos"]["y"] // 8][panel["gridPos"]["x"] // 12]
        expr = panel["targets"][0]["expr"].replace("$__rate_interval", "20s")
        series = query_range(base, expr, start, end)
        unit = panel["fieldConfig"]["defaults"].get("unit", "")
        ax.set_title(panel["title"], fontsize=10, loc="left")
        if panel["type"] == "stat":
            values = [float(s["values"][-1][1]) for s in series if s["values"]]
            text = "no data" if not values else (f"{max(values):.0f} s" if unit == "s" else f"{max(values):.0f}")
            ax.text(0.5, 0.45, text, fontsize=28, ha="center", va="center", transform=ax.transAxes)
            ax.axis("off")
            continue
        for s in series[:8]:
            xs = [float(t) - start for t, _ in s["values"]]
            ys = [float(v) if v not in ("NaN", "+Inf", "-Inf") else float("nan") for _, v in s["values"]]
            label = ", ".join(f"{k}={v}" for k, v in s["metric"].items() if k not in ("job", "instance")) or "value"
            ax.plot(xs, ys, label=label[:48], linewidth=1.2)
        if series:
            ax.legend(fontsize=6.5, loc="upper left", ncol=2, framealpha=0.6)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="#888")
        ax.set_ylabel({"reqps": "req/s", "ops": "per s", "s": "seconds"}.get(unit, ""), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for row in axes:
        row[-1].set_xlabel("seconds into the run", fontsize=8)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    os.makedirs(os.path.dirname(output), exist_ok=True)
    figure.savefig(output, dpi=80)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
