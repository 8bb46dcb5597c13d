import sys

from symprop.cli import main

sys.exit(main())
