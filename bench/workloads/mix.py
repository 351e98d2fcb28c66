"""A realistic mix: JSON round trips, regular expressions, collections,
dataclasses; the kind of code a web service spends its time in."""
import collections
import dataclasses
import json
import re

LINE = re.compile(r"(?P<user>[a-z]+)-(?P<id>\d+) (?P<verb>GET|POST|PUT) "
                  r"/(?P<path>[a-z/]+) (?P<status>\d{3}) (?P<ms>\d+)ms")


@dataclasses.dataclass
class Request:
    user: str
    id: int
    verb: str
    path: str
    status: int
    ms: int

    def slow(self):
        return self.ms > 250


def make_lines(n):
    users = ("ann", "bob", "cyd", "dee", "eve")
    verbs = ("GET", "POST", "PUT")
    paths = ("api/items", "api/users", "static/app", "health")
    out = []
    for i in range(n):
        out.append("%s-%d %s /%s %d %dms" % (
            users[i % 5], i, verbs[i % 3], paths[i % 4],
            200 if i % 11 else 500, (i * 37) % 400))
    return out


def parse(lines):
    reqs = []
    for line in lines:
        m = LINE.match(line)
        if m:
            d = m.groupdict()
            reqs.append(Request(d["user"], int(d["id"]), d["verb"], d["path"],
                                int(d["status"]), int(d["ms"])))
    return reqs


def summarize(reqs):
    by_user = collections.Counter(r.user for r in reqs)
    by_path = collections.defaultdict(list)
    for r in reqs:
        by_path[r.path].append(r.ms)
    slow = collections.deque(maxlen=50)
    for r in reqs:
        if r.slow():
            slow.append(r.id)
    return {
        "users": dict(sorted(by_user.items())),
        "paths": {p: [len(v), sum(v)] for p, v in sorted(by_path.items())},
        "errors": sum(1 for r in reqs if r.status >= 500),
        "slow_tail": list(slow),
    }


def main():
    checksum = 0
    for batch in range(42):
        lines = make_lines(4000 + batch)
        reqs = parse(lines)
        blob = json.dumps([dataclasses.asdict(r) for r in reqs[:800]])
        back = [Request(**d) for d in json.loads(blob)]
        report = json.dumps(summarize(reqs + back), sort_keys=True)
        checksum = (checksum * 131 + sum(map(ord, report))) % 2**61
    print(checksum)


main()
