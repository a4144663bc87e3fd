// test-util.h — small helpers every test program shares.
#pragma once

#include <string>

#include <glib.h>

namespace porch::test
{

// The whole content of the file at path (binary-safe), "" when it cannot be read.
inline std::string
ReadFile(const std::string &path)
{
    g_autofree char *s = nullptr;
    gsize len = 0;
    if (!g_file_get_contents(path.c_str(), &s, &len, nullptr))
        return "";
    return std::string(s, len);
}

} // namespace porch::test
