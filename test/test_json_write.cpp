// detail::json_writer: the text the codec writes without building a tree. Escaping as
// Boost.JSON's serializer, numbers as JavaScript writes them, commas at every nesting level,
// free-form values (deep ones too) kept, and the encoder's output equal, as JSON, to the tree
// the types describe.
#define BOOST_TEST_MODULE json_write
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <neolith/core/detail/small_rng.hpp>
#include <neolith/protocol/detail/json_write.hpp>
#include <neolith/protocol/json.hpp>
#include <neolith/protocol/messages.hpp>

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

using namespace neolith;
using neolith::detail::json_writer;
namespace json = boost::json;

namespace {

// Runs `f` on a writer; the text is complete once the writer is gone.
template <class F>
std::string write_with(F f) {
  std::string out;
  {
    json_writer w(out);
    f(w);
  }
  return out;
}

std::string written(const json::value& v) {
  return write_with([&](json_writer& w) { w.json(v); });
}

std::string number_text(double d) {
  return write_with([&](json_writer& w) { w.number(d); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(strings_are_escaped_as_boost_json_escapes_them) {
  std::string all;
  for (int c = 1; c < 128; ++c) all.push_back(static_cast<char>(c));
  all += "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // é € 😀: copied as they are
  all.push_back('\0');
  all += "tail";
  const std::string out = write_with([&](json_writer& w) { w.string(all); });
  BOOST_TEST(out == json::serialize(json::value(all)));
  BOOST_TEST(json::parse(out).as_string() == all);
  // The short escapes and the \u00XX form, spelled out.
  const std::string ctl =
      write_with([](json_writer& w) { w.string(std::string_view("\"\\\b\f\n\r\t\x01\x1f/\x7f", 11)); });
  BOOST_TEST(ctl == "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f/\x7f\"");
}

BOOST_AUTO_TEST_CASE(every_position_of_a_character_to_escape) {
  // The scan goes eight bytes at a time: a character to escape at any offset of a word, after
  // UTF-8 bytes (>= 0x80, never escaped) or among them, is found.
  for (const char special : {'"', '\\', '\n', '\x01', '\x1f', '\0'}) {
    for (std::size_t len = 0; len < 26; ++len) {
      for (std::size_t at = 0; at <= len; ++at) {
        std::string text(len, 'a');
        for (std::size_t i = 0; i + 1 < len; i += 3) {  // "é"s among the 'a's
          text[i] = static_cast<char>(0xC3);
          text[i + 1] = static_cast<char>(0xA9);
        }
        if (at < len) text[at] = special;
        const std::string out = write_with([&](json_writer& w) { w.string(text); });
        BOOST_TEST(out == json::serialize(json::value(text)), "len " << len << " at " << at);
      }
    }
  }
  // Keys that are not the codec's own names are escaped too.
  const std::string out = write_with([](json_writer& w) {
    w.begin_object();
    w.escaped_key("a\"b\\c\n");
    w.integer(1);
    w.key("plain");
    w.integer(2);
    w.end_object();
  });
  BOOST_TEST(out == R"({"a\"b\\c\n":1,"plain":2})");
}

BOOST_AUTO_TEST_CASE(numbers_are_written_as_javascript_writes_them) {
  BOOST_TEST(number_text(12.0) == "12");
  BOOST_TEST(number_text(-3.0) == "-3");
  BOOST_TEST(number_text(-0.0) == "0");
  BOOST_TEST(number_text(12.5) == "12.5");
  BOOST_TEST(number_text(0.1) == "0.1");
  BOOST_TEST(number_text(91.25888888888889) == "91.25888888888889");
  BOOST_TEST(number_text(std::numeric_limits<double>::infinity()) == "0");
  BOOST_TEST(number_text(std::numeric_limits<double>::quiet_NaN()) == "0");
  BOOST_TEST(number_text(9007199254740993.0) == "9007199254740992");
  // Beyond int64: the shortest text that reads back as the same double.
  for (double d : {1e21, -1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 0.30000000000000004, 1e300}) {
    const std::string text = number_text(d);
    double back = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), back);
    BOOST_TEST((r.ec == std::errc() && r.ptr == text.data() + text.size()), text);
    BOOST_TEST(back == d, text);
    BOOST_TEST(json::parse(text).is_double(), text);
  }
  // Values with up to three decimals take a short path: its text is std::to_chars's, exactly.
  const auto shortest = [](double d) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
  };
  neolith::detail::small_rng next(42);  // a fixed sequence, not luck
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t r = next();
    double d = 0;
    switch (i % 4) {
      case 0: d = static_cast<double>(static_cast<std::int64_t>(r % 2000001) - 1000000) / 1000; break;  // k/1000
      case 1: d = std::round(static_cast<double>(r % 100000000) / 997.0 * 100) / 100; break;  // rounded figures
      case 2: d = static_cast<double>(static_cast<std::int64_t>(r % 2000000000000001ULL) - 1000000000000000LL) / 1000; break;
      default: d = static_cast<double>(r >> 11) / static_cast<double>(1ULL << 40) * ((r & 1) ? -1 : 1); break;  // any
    }
    const std::string text = number_text(d);
    if (std::trunc(d) == d && std::abs(d) < 9e15) continue;  // integers: checked above
    BOOST_TEST(text == shortest(d), "i " << i);
  }
  for (double d : {0.001, -0.001, 0.5, 999999999999.999, -999999999999.999, 1e12 + 0.5, 0.1 + 0.2, 123.456, 1.005}) {
    BOOST_TEST(number_text(d) == shortest(d), d);
  }
  const std::string out = write_with([](json_writer& w) {
    w.begin_array();
    w.integer(std::numeric_limits<std::int64_t>::min());
    w.unsigned_integer(std::numeric_limits<std::uint64_t>::max());
    w.boolean(true);
    w.boolean(false);
    w.null();
    w.end_array();
  });
  BOOST_TEST(out == "[-9223372036854775808,18446744073709551615,true,false,null]");
}

BOOST_AUTO_TEST_CASE(commas_and_colons_at_every_level) {
  const std::string out = write_with([](json_writer& w) {
    w.begin_object();
    w.key("a");
    w.begin_array();
    w.begin_object();
    w.end_object();
    w.begin_array();
    w.end_array();
    w.begin_object();
    w.member("x", std::int64_t{1});
    w.member("y", "two");
    w.end_object();
    w.end_array();
    w.member("b", true);
    w.key("c");
    w.begin_object();
    w.end_object();
    w.member("d", timestamp{std::chrono::milliseconds{1764406077123}});
    w.end_object();
  });
  BOOST_TEST(out == R"({"a":[{},[],{"x":1,"y":"two"}],"b":true,"c":{},"d":"2025-11-29T08:47:57.123Z"})");
}

BOOST_AUTO_TEST_CASE(appends_after_existing_text_and_grows) {
  // The writer appends, writes into the string's spare room and trims it at the end: a long
  // text with many growths, after a prefix, comes out exact.
  std::string out = "prefix:";
  json::array expected;
  {
    json_writer w(out);
    w.begin_array();
    for (int i = 0; i < 2000; ++i) {
      const std::string s(static_cast<std::size_t>(i % 97), static_cast<char>('a' + i % 26));
      w.string(s);
      w.string("tab\tquote\"");
      expected.emplace_back(s);
      expected.emplace_back("tab\tquote\"");
    }
    w.end_array();
  }
  BOOST_TEST_REQUIRE(out.rfind("prefix:[", 0) == 0u);
  BOOST_TEST(json::parse(std::string_view(out).substr(7)) == json::value(expected));
  BOOST_TEST(out.size() == 7 + json::serialize(expected).size());
}

BOOST_AUTO_TEST_CASE(free_form_values_are_kept) {
  const json::value v = json::parse(R"({"s":"x\ny","i":-5,"u":18446744073709551615,"d":2.5,"t":true,"n":null,)"
                                    R"("a":[1,[2,[3,{}]],[]],"o":{"k":{"k":{"k":[]}}},"e":{},"big":1e300})");
  const std::string text = written(v);
  BOOST_TEST(json::parse(text) == v, text);
  // Doubles stay doubles, integral or not (the value reads back equal); non-finite ones are
  // null (as JSON.stringify).
  json::object o;
  o["whole"] = 3.0;
  o["negative_zero"] = -0.0;
  o["big"] = 1e21;
  o["int"] = 3;
  o["inf"] = std::numeric_limits<double>::infinity();
  o["nan"] = std::numeric_limits<double>::quiet_NaN();
  const std::string kept = written(o);
  BOOST_TEST(kept == R"({"whole":3.0,"negative_zero":-0.0,"big":1e+21,"int":3,"inf":null,"nan":null})");
  const json::value back = json::parse(kept);
  BOOST_TEST(back.at("whole").is_double());
  BOOST_TEST(std::signbit(back.at("negative_zero").as_double()));
  BOOST_TEST(back.at("int").is_int64());
  // Through a whole message: encode -> decode gives the same message (the decode fuzzer found
  // integral doubles in a scratchpad coming back as integers).
  msg::session_updated u;
  u.session_id = "s";
  u.session.id = "s";
  u.session.memory.scratchpad = o;
  u.session.memory.scratchpad.erase("inf");
  u.session.memory.scratchpad.erase("nan");
  u.session.task.metadata = json::object{{"confidence", 5.0}, {"list", json::array{2.25, -0.0, 7}}};
  auto decoded = decode(encode(message(u)));
  BOOST_TEST_REQUIRE(decoded.has_value());
  BOOST_TEST((decoded.value() == message(u)));
}

BOOST_AUTO_TEST_CASE(deeply_nested_free_form_values_stay_valid) {
  // Deeper than the writer's own bookkeeping (64 levels): the rest goes through Boost.JSON's
  // serializer in one piece, and the text is still the same JSON.
  for (int depth : {59, 60, 61, 63, 64, 65, 200, 1000}) {
    json::value v = json::array{1, "x"};
    for (int i = 0; i < depth; ++i) {
      json::object o;
      o["k"] = std::move(v);
      o["n"] = i;
      if (i % 2 == 0) {
        v = std::move(o);
      } else {
        v = json::array{json::value(std::move(o)), i};
      }
    }
    // Several siblings after the deep one, at the top: the commas of the outer levels.
    json::object top;
    top["deep"] = v;
    top["after"] = "y";
    top["list"] = json::array{1, 2};
    const std::string text = written(top);
    json::parse_options po;
    po.max_depth = 4096;
    boost::system::error_code ec;
    const json::value back = json::parse(text, ec, {}, po);
    BOOST_TEST_REQUIRE(!ec, "depth " << depth << ": " << ec.message());
    BOOST_TEST(back == json::value(top), "depth " << depth);
  }
}

BOOST_AUTO_TEST_CASE(value_from_reads_back_what_the_codec_writes) {
  node_health h;
  h.status = node_status::degraded;
  h.cpu_usage = 12.5;
  h.memory_usage = 40.0;
  h.active_sessions = 3;
  h.response_time = 0.25;
  h.last_heartbeat = timestamp{std::chrono::milliseconds{1764406077123}};
  h.uptime = 3600.0;
  const json::value v = json::value_from(h);
  BOOST_TEST(v.at("cpuUsage").is_double());
  BOOST_TEST(v.at("memoryUsage").is_int64());  // integral: an integer, as JavaScript writes it
  BOOST_TEST(v.at("lastHeartbeat").as_string() == "2025-11-29T08:47:57.123Z");
  BOOST_TEST((from_json<node_health>(v).value() == h));
  // In a caller's storage.
  json::monotonic_resource mr;
  const json::value in_arena = json::value_from(h, json::storage_ptr(&mr));
  BOOST_TEST(in_arena.storage().get() == &mr);
  BOOST_TEST(in_arena == v);

  msg::health_response answer;
  answer.request_id = "r-1";
  answer.health = h;
  const std::string text = encode(message(answer));
  BOOST_TEST(text.rfind(R"({"type":"health_response","health":{"status":"degraded","cpuUsage":12.5,)", 0) == 0, text);
  BOOST_TEST(text.ends_with(R"(},"requestId":"r-1"})"), text);
  BOOST_TEST(json::parse(text).as_object() == to_json(message(answer)));
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_replaced_once_over_the_whole_text) {
  msg::error e;
  e.text = "bad \xFF byte and a \"quote\"";
  e.code = "internal";
  const std::string text = encode(message(e));
  const json::value v = json::parse(text);
  BOOST_TEST(v.at("error").as_string() == "bad \xEF\xBF\xBD byte and a \"quote\"");
  // At every offset after a long ASCII run (the check skips ASCII eight bytes at a time), and
  // valid UTF-8 kept as it is.
  for (std::size_t at = 0; at < 40; ++at) {
    msg::error long_one;
    long_one.text = std::string(at, 'x') + "\xC3\xA9\xFE" + std::string(at % 9, 'y');
    long_one.code = "internal";
    const json::value lv = json::parse(encode(message(long_one)));
    BOOST_TEST(lv.at("error").as_string() == std::string(at, 'x') + "\xC3\xA9\xEF\xBF\xBD" + std::string(at % 9, 'y'));
  }
}
