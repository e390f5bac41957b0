// tally.cc - the C++ program of tests/real_apps.sh: templates of libc++
// (map, vector, string, algorithm, lambdas) compiled by clang under k23sim
// and run under k23sim.  It tallies the letters of a few words, ranks the
// words by score and prints both.
#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <string>
#include <vector>

struct Entry {
	std::string word;
	int score;
};

int main(int argc, char **argv)
{
	std::vector<std::string> words(argv + 1, argv + argc);
	std::map<char, int> letters;
	std::vector<Entry> ranked;

	for (const auto &w : words) {
		for (char c : w)
			letters[c]++;
		int score = std::accumulate(w.begin(), w.end(), 0,
					    [](int s, char c) { return s * 3 + (c - 'a' + 1); });
		ranked.push_back({ w, score % 1000 });
	}
	std::stable_sort(ranked.begin(), ranked.end(),
			 [](const Entry &a, const Entry &b) { return a.score > b.score; });
	for (const auto &e : ranked)
		std::printf("%-8s %4d\n", e.word.c_str(), e.score);
	std::string common;
	for (const auto &[c, n] : letters)
		if (n >= 3)
			common += c;
	std::printf("%zu letters, at least thrice: %s\n", letters.size(), common.c_str());
	return 0;
}
