"""Autobahn|Testsuite's fuzzingserver on 127.0.0.1 only, for `cargo xtask autobahn`.

Python 2.7 (autobahntestsuite 0.8.2 runs on nothing newer), with the packages of
requirements.txt in the folder given as --packages:

    python2.7 fuzzingserver.py --packages DIR --spec fuzzingserver.json --outdir DIR [--port 0]

`wstest -m fuzzingserver` listens on every interface (its Twisted `listenTCP` gets no
interface); this launcher builds the same server factory from the spec but listens on
127.0.0.1 only, on --port (0 picks a free one), and serves no web page. It prints
`READY <port>` once listening and stops by itself after --lifetime seconds (default 1800).
Clients run cases with /getCaseCount, /runCase?case=N&agent=A and /updateReports?agent=A;
reports go to --outdir (index.json holds every case's behavior).
"""

import argparse
import json
import site
import sys
import warnings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", required=True, help="folder the pinned packages are in")
    parser.add_argument("--spec", required=True, help="fuzzingserver spec (JSON)")
    parser.add_argument("--outdir", required=True, help="where the reports go")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=1800.0)
    args = parser.parse_args()

    # A site dir, not just sys.path: zope.interface's namespace comes from a .pth file there.
    site.addsitedir(args.packages)
    # cryptography warns on every start that Python 2 support is deprecated.
    warnings.filterwarnings("ignore", message="Python 2 is no longer supported")
    # Imported first: it installs the epoll reactor that Twisted then uses.
    from autobahntestsuite.fuzzing import FuzzingServerFactory
    from twisted.internet import reactor

    with open(args.spec) as spec_file:
        spec = json.load(spec_file)
    spec["url"] = "ws://127.0.0.1:%d" % args.port
    spec["outdir"] = args.outdir
    factory = FuzzingServerFactory(spec)
    listener = reactor.listenTCP(args.port, factory, interface="127.0.0.1")
    port = listener.getHost().port
    # The Host header of each request must name the port actually listened on.
    factory.port = factory.externalPort = port
    reactor.callLater(args.lifetime, reactor.stop)
    print("READY %d" % port)
    sys.stdout.flush()
    reactor.run()


if __name__ == "__main__":
    main()
