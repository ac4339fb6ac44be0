"""moto's server, in which the first access key of each IAM user whose name starts with `aged-` was
created three years ago. moto has no way to set a key's CreateDate, and awskeep's key age is IAM's
CreateDate (a migrated old key must show its real age); later keys of the user (a rotation's) are
new. Arguments as moto_server's.
"""
import datetime
import re
import sys

from moto.iam import models

_init = models.AccessKey.__init__
_aged = set()


def _init_aged(self, user_name, *args, **kwargs):
    _init(self, user_name, *args, **kwargs)
    if user_name and user_name.startswith("aged-") and user_name not in _aged:
        _aged.add(user_name)
        self.create_date -= datetime.timedelta(days=3 * 365)


models.AccessKey.__init__ = _init_aged

from moto.server import main  # noqa: E402  (after the patch)

if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\.pyw|\.exe)?$", "", sys.argv[0])
    sys.exit(main())
