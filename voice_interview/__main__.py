from voice_interview.cli import main

raise SystemExit(main())
