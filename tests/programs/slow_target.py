"""One slow request among fast ones: handler(3) takes ~90 ms in db()."""
import time


def db():
    time.sleep(0.03)


def render():
    return sum(range(1000))


def handler(n):
    for _ in range(n):
        db()
    render()


def fast():
    pass


for i in range(5):
    handler(3 if i == 2 else 0)
    fast()
print("done")
