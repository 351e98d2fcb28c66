/* `loong report`: the page, the embedded template of report/ filled in. */
#include "cli/report.h"

#include <string.h>

void report_fill(sb *out, const char *title, size_t title_len,
                 const char *data, size_t data_len)
{
    const char *t = report_html, *end = report_html + report_html_len;

    while (t < end) {
        const char *open = memmem(t, (size_t)(end - t), "{{", 2);
        if (open == NULL) {
            sb_putn(out, t, (size_t)(end - t));
            break;
        }
        sb_putn(out, t, (size_t)(open - t));
        const char *close = memmem(open, (size_t)(end - open), "}}", 2);
        size_t name_len = close ? (size_t)(close - open - 2) : 0;
#define IS(word)                                                              \
    (name_len == sizeof(word) - 1 && memcmp(open + 2, word, name_len) == 0)
        if (close && IS("TITLE"))
            rj_html(out, title, title_len);
        else if (close && IS("CSS"))
            sb_putn(out, report_css, report_css_len);
        else if (close && IS("JS"))
            sb_putn(out, report_js, report_js_len);
        else if (close && IS("DATA"))
            sb_putn(out, data, data_len);
        else {
            sb_putn(out, "{{", 2); /* not a placeholder: as it is */
            t = open + 2;
            continue;
        }
#undef IS
        t = close + 2;
    }
}
