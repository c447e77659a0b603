// The room page's pre-call test runs Jitsi's own module: its public class, as a browser global.
import PreCallTest from "@jitsi/precall-test";

window.JitsiPreCallTest = PreCallTest;
