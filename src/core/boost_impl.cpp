// Separate compilation of Asio, Asio.SSL and Beast: their implementation is compiled here,
// once, instead of in every translation unit that includes them
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are public definitions of
// the neolith target).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
