"""`python -m stedi.aws deploy|run|destroy`."""

import sys

from stedi.aws.cli import main

sys.exit(main())
