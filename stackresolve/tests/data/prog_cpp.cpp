// C++ test program for the addr2line mode: methods, templates, constructors,
// operators, lambdas, anonymous namespaces, extern "C" and inlined C++ code.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>
#include <algorithm>

namespace shapes {
struct Shape {
    virtual ~Shape() {}
    virtual double area() const = 0;
};
struct Rect : Shape {
    double w, h;
    Rect(double a, double b) : w(a), h(b) {}
    double area() const override { return w * h; }
    Rect operator+(const Rect& o) const { return Rect(w + o.w, h + o.h); }
};
template <typename T, int N>
struct Box {
    T items[N];
    T sum() const {
        T s{};
        for (int i = 0; i < N; i++) s += items[i];
        return s;
    }
};
}  // namespace shapes

namespace {
__attribute__((noinline)) int hidden(int x) { return x * 3 + 1; }
inline int twice(int x) { return hidden(x) * 2; }
}  // namespace

template <typename T>
__attribute__((noinline)) T biggest(const std::vector<T>& v) {
    return *std::max_element(v.begin(), v.end());
}

extern "C" __attribute__((noinline)) int c_linkage(int x) { return twice(x) + 5; }

static inline int deep(int x) { return c_linkage(x) + twice(x + 1); }

int main(int argc, char** argv) {
    shapes::Rect r(argc, 2.5);
    shapes::Rect q = r + shapes::Rect(1, 1);
    shapes::Shape* s = &q;
    shapes::Box<int, 4> b{{argc, 2, 3, 4}};
    shapes::Box<double, 2> d{{1.5, argc * 1.0}};
    std::vector<std::string> names{"a", argv[0]};
    std::map<std::string, int> m;
    for (auto& n : names) m[n] = (int)n.size();
    auto lam = [&](int k) { return k + (int)m.size() + deep(k); };
    std::vector<int> v{argc, 7, 3};
    std::sort(v.begin(), v.end(), [](int a, int c) { return a > c; });
    std::printf("%f %d %f %d %s %d\n", s->area(), b.sum(), d.sum(), lam(argc),
                biggest(names).c_str(), biggest(v));
    return 0;
}
