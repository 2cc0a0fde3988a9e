"""The Python form of the baseline of figures 2 and 3 (bench/baseline-client.ts is the Node one).

What the official scripts do: one new connection per request (`Connection: close`), one request
at a time, JSON parsed per page, one line printed per row. With the standard library (`urllib`)
by default; with BENCH_HTTP=requests through `requests` without a Session, as the scripts
themselves call it (slower to import, and more work per request).

    python3 baseline_client.py list    URL PAGE_SIZE
    python3 baseline_client.py disable URL PAGE_SIZE GROUP_FILTER

The token comes from BENCH_TOKEN.
"""

import json
import os
import sys
import urllib.parse
import urllib.request


# Straight to the server under test: no proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call_urllib(method, url, token):
    req = urllib.request.Request(
        url,
        method=method,
        headers={"Authorization": "Bearer " + token, "Accept": "application/json", "Connection": "close"},
    )
    with OPENER.open(req, timeout=30) as res:
        return res.status, res.read().decode("utf-8")


def call_requests(method, url, token):
    import requests  # noqa: PLC0415 (imported only when asked for)

    res = requests.request(
        method,
        url,
        headers={"Authorization": "Bearer " + token, "Accept": "application/json", "Connection": "close"},
        timeout=30,
        proxies={"http": None, "https": None},
    )
    return res.status_code, res.text


if os.environ.get("BENCH_HTTP") == "requests":
    import requests  # noqa: F401 (the import time is part of what the scripts pay)

    call = call_requests
else:
    call = call_urllib


def list_all(base, token, page_size, query):
    """The scripts' pagination: `current` from 1, stop on a short page or at `total`."""
    current = 1
    while True:
        qs = urllib.parse.urlencode({**query, "current": current, "pageSize": page_size})
        status, text = call("GET", base + "/api/users?" + qs, token)
        body = json.loads(text)
        if status != 200 or body.get("error"):
            raise SystemExit("HTTP %d: %s" % (status, body.get("error")))
        data = body.get("data") or []
        for row in data:
            yield row
        if len(data) < page_size or current * page_size >= (body.get("total") or 0):
            return
        current += 1


def main():
    mode, base, page_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    token = os.environ.get("BENCH_TOKEN", "")
    out = sys.stdout
    if mode == "list":
        for row in list_all(base, token, page_size, {}):
            out.write(repr(row) + "\n")
    elif mode == "disable":
        rows = list(list_all(base, token, page_size, {"group_name": sys.argv[4]}))
        for row in rows:
            out.write("Disable " + row["name"] + "\n")
            status, text = call("POST", base + "/api/users/" + urllib.parse.quote(row["guid"], safe="") + "/disable", token)
            if status != 200:
                raise SystemExit("HTTP %d: %s" % (status, text))
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
