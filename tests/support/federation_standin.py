"""A stand-in for AWS's federation endpoint (https://signin.aws.amazon.com/federation), for the
login tests: on 127.0.0.1 at a free port, which it prints as its first line on stdout.

GET /federation?Action=getSigninToken&Session=JSON[&SessionDuration=N] answers
{"SigninToken": "standin-token-N"} (N counts the answers) when the Session JSON holds sessionId,
sessionKey and sessionToken, and, with --expect ID SECRET TOKEN, exactly those; otherwise 400.
Every request is appended to the --log file as one JSON line: the action, the SessionDuration,
the session it got and whether it was accepted (the test compares them with what AWS issued).

usage: federation_standin.py --log PATH [--expect ID SECRET TOKEN]
"""

import argparse
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--expect", nargs=3, metavar=("ID", "SECRET", "TOKEN"))
    args = parser.parse_args()
    answered = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            action = query.get("Action", [None])[0]
            record = {
                "path": url.path,
                "action": action,
                "session_duration": query.get("SessionDuration", [None])[0],
                "params": sorted(query),
                "session": None,
                "accepted": False,
            }
            try:
                session = json.loads(query.get("Session", [""])[0])
                record["session"] = session
                held = [session.get(k) for k in ("sessionId", "sessionKey", "sessionToken")]
                ok = url.path == "/federation" and action == "getSigninToken" and all(held)
                if ok and args.expect:
                    ok = held == args.expect
            except ValueError:
                ok = False
            record["accepted"] = ok
            with open(args.log, "a") as log:
                log.write(json.dumps(record) + "\n")
            if not ok:
                self.send_response(400)
                self.end_headers()
                self.wfile.write(b"bad request")
                return
            answered[0] += 1
            body = json.dumps({"SigninToken": f"standin-token-{answered[0]}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
