import sys

from livegen.cli.main import main

sys.exit(main())
