// Second C++ unit: more templates over lambdas, an extern "C" function with
// inlined C++ callees, static and anonymous-namespace helpers.
#include <algorithm>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace {
struct Acc {
    long total = 0;
    void add(long v) { total += v * 3 - (v >> 2); }
};
}  // namespace

static inline long mix(long a, long b) { return (a * 31) ^ (b + 7); }

template <typename F>
long apply_all(const std::vector<long>& v, F f) {
    long s = 0;
    for (long x : v) s = mix(s, f(x));
    return s;
}

extern "C" long unit2_entry(long n) {
    std::vector<long> v(n);
    std::iota(v.begin(), v.end(), 1);
    Acc acc;
    for (long x : v) acc.add(x);
    auto sq = [](long x) { return x * x; };
    std::function<long(long)> cube = [&](long x) { return x * x * x + acc.total; };
    std::stable_sort(v.begin(), v.end(), [](long a, long b) { return (a % 7) < (b % 7); });
    return apply_all(v, sq) + apply_all(v, cube) + (long)std::to_string(n).size();
}

long unit2_cpp(const std::string& s) { return unit2_entry((long)s.size()); }
