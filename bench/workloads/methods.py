"""Method-heavy object code: small classes, properties, dunder methods."""


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def scale(self, k):
        return Vec(self.x * k, self.y * k)

    def dot(self, other):
        return self.x * other.x + self.y * other.y


class Body:
    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel

    @property
    def energy(self):
        return self.vel.dot(self.vel)

    def step(self, dt):
        self.pos = self.pos + self.vel.scale(dt)
        self.vel = self.vel + self.pos.scale(-dt)


class World:
    def __init__(self, n):
        self.bodies = [Body(Vec(i % 7 - 3, i % 5 - 2), Vec(i % 3 - 1, i % 2))
                       for i in range(n)]

    def step(self, dt):
        for b in self.bodies:
            b.step(dt)

    def energy(self):
        return sum(b.energy for b in self.bodies)


def main():
    w = World(50)
    for _ in range(12000):
        w.step(1 / 64)
    print(round(w.energy(), 6))


main()
