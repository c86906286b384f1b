import sys

from wsinspector.cli import main

sys.exit(main())
