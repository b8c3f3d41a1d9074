// The YAML tree the loader reads: what it makes of nulls, aliases, tags and broken input, and
// what it costs.
#include "config/yaml_tree.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace smppd::config::yaml;

TEST(YamlTree, ScalarsMappingsAndSequencesWithTheirMarks) {
  auto doc = Document::parse("a: 1\nb:\n  - x\n  - 'y z'\nc: { d: e }\n");
  ASSERT_EQ(doc->error(), nullptr);
  const Node root = doc->root();
  ASSERT_TRUE(root.IsMap());
  ASSERT_EQ(root.size(), 3u);
  EXPECT_EQ(root.key(0).Scalar(), "a");
  EXPECT_EQ(root.find("a").Scalar(), "1");
  const Node b = root.find("b");
  ASSERT_TRUE(b.IsSequence());
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.item(1).Scalar(), "y z");
  EXPECT_EQ(b.item(1).Mark().line, 3);
  EXPECT_EQ(b.item(1).Mark().column, 4);
  EXPECT_EQ(root.find("c").find("d").Scalar(), "e");
  EXPECT_FALSE(root.find("missing").IsDefined());
  EXPECT_FALSE(root.find("a").find("x").IsDefined());
}

TEST(YamlTree, NullsAsYamlCppHadThem) {
  auto doc = Document::parse("a:\nb: ~\nc: null\nd: 'null'\ne: \"\"\nf: !!str\n");
  ASSERT_EQ(doc->error(), nullptr);
  const Node root = doc->root();
  EXPECT_TRUE(root.find("a").IsNull());
  EXPECT_TRUE(root.find("b").IsNull());
  EXPECT_TRUE(root.find("c").IsNull());
  EXPECT_TRUE(root.find("d").IsScalar());
  EXPECT_TRUE(root.find("e").IsScalar());
  EXPECT_TRUE(root.find("f").IsScalar());
  EXPECT_FALSE(Document::parse("")->root().IsDefined());
}

TEST(YamlTree, AliasesShareTheirNode) {
  auto doc = Document::parse("base: &b { x: 1 }\nuse: *b\n");
  ASSERT_EQ(doc->error(), nullptr);
  EXPECT_EQ(doc->root().find("use").find("x").Scalar(), "1");
  // Nine levels of ten aliases each would be a billion nodes if copied.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += prev + (j < 9 ? ", " : "]\n");
  }
  auto bombed = Document::parse(bomb);
  ASSERT_EQ(bombed->error(), nullptr);
  EXPECT_LT(bombed->node_count(), 200u);
}

TEST(YamlTree, ErrorsCarryAMark) {
  auto doc = Document::parse("a: 1\nb: [\n");
  ASSERT_NE(doc->error(), nullptr);
  EXPECT_GE(doc->error()->mark.line, 1);
  EXPECT_FALSE(doc->root().IsDefined());

  auto second = Document::parse("a: 1\n---\nb: 2\n");
  ASSERT_NE(second->error(), nullptr);
  EXPECT_EQ(second->error()->message,
            "a second YAML document in the file (a configuration is one document)");
  EXPECT_EQ(second->error()->mark.line, 1);

  auto unknown = Document::parse("a: *nothing\n");
  ASSERT_NE(unknown->error(), nullptr);
  EXPECT_EQ(unknown->error()->message, "unknown anchor '*nothing'");

  auto cycle = Document::parse("a: &x [1, *x]\n");
  ASSERT_NE(cycle->error(), nullptr);
  EXPECT_EQ(cycle->error()->message, "alias '*x' refers to a collection that contains it");

  auto bad_utf8 = Document::parse("a: 1\nb: \xff\n");
  ASSERT_NE(bad_utf8->error(), nullptr);
  EXPECT_EQ(bad_utf8->error()->mark.line, 1);
}

// 16 bytes a node, 4 a child, and the scalars' text: a route of the benchmark's shape (a name, a
// destination, an upstream, a failover) is 11 nodes.
TEST(YamlTree, CostPerNode) {
  std::string yaml = "routes:\n";
  const int routes = 10000;
  for (int i = 0; i < routes; ++i) {
    yaml += "  - name: route-" + std::to_string(i) + "\n    match: { destination_addr: \"+" +
            std::to_string(200 + i) + "*\" }\n    upstream: carrier-a\n    failover: carrier-b\n";
  }
  auto doc = Document::parse(yaml);
  ASSERT_EQ(doc->error(), nullptr);
  EXPECT_EQ(doc->node_count(), 3u + routes * 11u);
  EXPECT_LT(doc->bytes() / routes, 16u * 11 * 2 + 4 * 11 * 2 + 120);  // vectors at most 2x full
}
