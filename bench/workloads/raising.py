"""200,000 exceptions raised one frame down and caught: the exception
toolkit's cost per exception."""


def lookup(d, k):
    return d[k]


def main():
    d = {}
    caught = 0
    for i in range(200000):
        try:
            lookup(d, i)
        except KeyError:
            caught += 1
    print(caught)


main()
