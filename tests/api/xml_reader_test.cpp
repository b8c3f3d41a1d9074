// The XML reader of the HTTP faces: what it reads as libxml2 would (text nodes, CDATA,
// references, line ends, the declared encoding), what it refuses (a DTD, undefined entities,
// malformed markup, characters XML does not allow, beyond its limits), and the XPath questions.
#include "api/message/xml_reader.hpp"

#include <gtest/gtest.h>

#include <array>

namespace smppd::api::xml {
namespace {

Document ok(std::string_view input, const Limits& limits = {}) {
  auto doc = parse(input, limits);
  if (!doc) {
    ADD_FAILURE() << "refused: " << input;
    return {};
  }
  return std::move(*doc);
}

std::vector<std::string> texts(const Document& doc, std::span<const std::string_view> path) {
  std::vector<std::string> out;
  for (const Node* n : select(doc, path)) out.push_back(string_value(doc, *n));
  return out;
}

TEST(XmlReader, ReadsWhatLibxml2Reads) {
  const Document doc =
      ok("\xEF\xBB\xBF<?xml version=\"1.0\" encoding='utf-8' standalone=\"yes\"?>\r\n"
         "<!-- a comment --><?pi data?>\n"
         "<a x = \"1&amp;&#x41;&#66;\tz\" y='\"'>t&lt;&gt;&apos;&quot;\r\nu<![CDATA[<c>&amp;]]>v"
         "<b/><!-- split -->w&#233;&#x1F600;</a>\n<!-- after -->");
  EXPECT_EQ(*doc.encoding, "utf-8");
  const Node& a = doc.nodes[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(*attribute(a, "x"), "1&AB z");  // a tab in an attribute is a space
  EXPECT_EQ(*attribute(a, "y"), "\"");
  EXPECT_EQ(attribute(a, "z"), nullptr);
  ASSERT_EQ(a.children.size(), 5u);
  EXPECT_EQ(doc.nodes[a.children[0]].kind, Node::Kind::text);
  EXPECT_EQ(doc.nodes[a.children[0]].text, "t<>'\"\nu");  // "\r\n" is "\n"
  EXPECT_EQ(doc.nodes[a.children[1]].kind, Node::Kind::cdata);
  EXPECT_EQ(doc.nodes[a.children[1]].text, "<c>&amp;");
  EXPECT_EQ(doc.nodes[a.children[2]].text, "v");
  EXPECT_EQ(doc.nodes[a.children[3]].name, "b");
  EXPECT_EQ(doc.nodes[a.children[4]].text, "w\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(string_value(doc, a), "t<>'\"\nu<c>&amp;vw\xC3\xA9\xF0\x9F\x98\x80");
}

TEST(XmlReader, SelectsInDocumentOrder) {
  const Document doc =
      ok("<m><s><d><n>1</n><n>2</n></d><x><n>no</n></x><d><n>3<i>4</i></n></d></s>"
         "<s><d><n>5</n></d></s><p:s><d><n>no</n></d></p:s></m>");
  constexpr std::array<std::string_view, 4> kPath = {"m", "s", "d", "n"};
  EXPECT_EQ(texts(doc, kPath), (std::vector<std::string>{"1", "2", "34", "5"}));
  constexpr std::array<std::string_view, 2> kWrongRoot = {"x", "s"};
  EXPECT_TRUE(select(doc, kWrongRoot).empty());
  // A default namespace: XPath's unprefixed names do not match, until it is undone.
  const Document ns = ok("<m><s xmlns='urn:a'><d/></s><s><d xmlns=''/></s></m>");
  constexpr std::array<std::string_view, 3> kSd = {"m", "s", "d"};
  EXPECT_EQ(select(ns, kSd).size(), 1u);
}

TEST(XmlReader, EncodingsOtherThanUtf8AreBytes) {
  const Document doc = ok("<?xml version='1.0' encoding='ISO-8859-1'?><a>caf\xE9</a>");
  EXPECT_EQ(*doc.encoding, "ISO-8859-1");
  EXPECT_EQ(string_value(doc, doc.nodes[0]), "caf\xE9");
  EXPECT_FALSE(parse("<a>caf\xE9</a>")) << "undeclared: UTF-8, which this is not";
  EXPECT_FALSE(parse("<?xml version='1.0' encoding='utf-8'?><a>\xED\xA0\x80</a>"));
  EXPECT_FALSE(parse("<?xml version='1.0' encoding='UTF-16'?><a/>"));
  EXPECT_FALSE(parse("\xEF\xBB\xBF<?xml version='1.0' encoding='ISO-8859-1'?><a>\xE9</a>"))
      << "a UTF-8 byte order mark";
  EXPECT_FALSE(parse("<a>\xEF\xBF\xBE</a>")) << "U+FFFE is not an XML character";
}

TEST(XmlReader, RefusesWhatIsNotWellFormedOrNeedsADtd) {
  const std::string_view cases[] = {
      "",
      "   ",
      "text",
      "<!DOCTYPE a><a/>",
      "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
      "<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
      "<a>&e;</a>",
      "<a>&amp</a>",
      "<a>&#0;</a>",
      "<a>&#xD800;</a>",
      "<a>&#x110000;</a>",
      "<a>&#;</a>",
      "<a>&#x;</a>",
      "<a>&#12a;</a>",
      "<a></b>",
      "<a><b></a></b>",
      "<a>",
      "<a",
      "<a x='1' x='2'/>",
      "<a x='1'y='2'/>",
      "<a x=1/>",
      "<a x='<'/>",
      "<a x='1/>",
      "<a>]]></a>",
      "<a><!-- -- --></a>",
      "<a><!-- x</a>",
      "<a><![CDATA[x</a>",
      "<a><!ELEMENT x></a>",
      "<a/>text",
      "<a/><b/>",
      "<a>\x01</a>",
      "<a>\x00</a>",
      "<?xml version='1.0'?><?xml version='1.0'?><a/>",
      "<a><?xml x?></a>",
      "<?xml?><a/>",
      "<1a/>",
  };
  for (std::string_view input : cases) EXPECT_FALSE(parse(input)) << input;
  EXPECT_FALSE(parse(std::string_view("<a>\0</a>", 8)));
}

TEST(XmlReader, Limits) {
  std::string deep;
  for (int i = 0; i < 32; ++i) deep += "<a>";
  for (int i = 0; i < 32; ++i) deep += "</a>";
  EXPECT_TRUE(parse(deep));
  EXPECT_FALSE(parse("<r>" + deep + "</r>"));
  Limits limits;
  limits.max_nodes = 3;
  EXPECT_TRUE(parse("<a><b/>t</a>", limits));
  EXPECT_FALSE(parse("<a><b/>t<c/></a>", limits));
  // A long flat document is no deeper.
  std::string wide = "<a>";
  for (int i = 0; i < 10000; ++i) wide += "<b>x</b>";
  EXPECT_TRUE(parse(wide + "</a>"));
}

}  // namespace
}  // namespace smppd::api::xml
