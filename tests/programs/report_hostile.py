"""For the HTML report: functions whose names would break a page that
pasted them in as HTML or into a script (closing tags, quotes,
backslashes, line breaks, unicode, a lone surrogate)."""
import sys

NAMES = [
    "</script><script>alert(1)</script>",
    "<!-- <b>bold</b> &amp; \"q\" 'a' `t` \\ back\\slash",
    "line\nbreak\ttab\r; semi",
    "uni \u00f1 \u4e16\u754c \U0001f40d \u2028 \u2029 end",
    "</style><img src=x onerror=alert(2)>",
    "bad \udc80 surrogate",
]


def make(name):
    def f():
        s = 0
        for i in range(50000):
            s += i
        return s
    if sys.version_info >= (3, 11):
        f.__code__ = f.__code__.replace(co_name=name, co_qualname=name)
    else:
        f.__code__ = f.__code__.replace(co_name=name)
    f.__qualname__ = name
    return f


for fn in [make(n) for n in NAMES]:
    fn()
print("done")
