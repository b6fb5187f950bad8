"""``watchdog doctor``: checks a first connection to a real store and account, read only.

Credentials and clock skew, every route the service reads (naming Magento's ACL resource when
one is refused), the mapping between the two systems, Stokly's rate-limit header, and a shape
calibration of every field the Stokly connector assumes. Only the command line imports this
package.
"""

from watchdog.doctor.render import overall, render_html, render_json, render_text
from watchdog.doctor.runner import examine, usable
from watchdog.doctor.verdicts import Check, FieldTally, Report, Verdict

__all__ = ["Check", "FieldTally", "Report", "Verdict", "examine", "overall", "render_html", "render_json",
           "render_text", "usable"]
