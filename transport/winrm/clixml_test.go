package winrm

import "testing"

// clixmlSample is shaped like what powershell.exe -EncodedCommand writes to
// stderr under WinRM for `Write-Error boom` (progress record included).
const clixmlSample = "#< CLIXML\r\n" +
	`<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>` +
	`<S S="Error">Write-Error : boom_x000D__x000A_</S><S S="Error">At line:1 char:1_x000D__x000A_</S><S S="Error">+ Write-Error boom_x000D__x000A_</S><S S="Error">+ ~~~~~~~~~~~~~~~~_x000D__x000A_</S><S S="Error">    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException_x000D__x000A_</S><S S="Error">    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException_x000D__x000A_</S><S S="Error"> _x000D__x000A_</S></Objs>`

func TestDecodeCLIXML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"write-error with progress record", clixmlSample,
			"Write-Error : boom\nAt line:1 char:1\n+ Write-Error boom\n+ ~~~~~~~~~~~~~~~~\n" +
				"    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException\n" +
				"    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException\n "},
		{"plain text passes through", "The system cannot find the file specified.\r\n",
			"The system cannot find the file specified.\r\n"},
		{"empty passes through", "", ""},
		{"header without Objs passes through", "#< CLIXML\r\n", "#< CLIXML\r\n"},
		{"literal underscore escape", "#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">path C:\temp\a_x005F_x0041_b not found_x000D__x000A_</S></Objs>`,
			`path C:\temp\a_x0041_b not found`},
		{"surrogate pair and BMP escapes", "#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">caf_x00E9_ _xD83D__xDE00_ tab_x0009_end</S></Objs>`,
			"café 😀 tab\tend"},
		{"lone surrogate becomes replacement", "#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">bad_xD83D_x</S></Objs>`,
			"bad\uFFFDx"},
		{"xml entities", "#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">a &lt;b&gt; &amp; c</S></Objs>`,
			"a <b> & c"},
		{"warning and verbose streams are prefixed", "#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="warning">disk low_x000D__x000A_</S><S S="verbose">step 2_x000D__x000A_</S></Objs>`,
			"WARNING: disk low\nVERBOSE: step 2"},
		{"text before the header is kept", "note\r\n#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">x_x000D__x000A_</S></Objs>`,
			"note\r\nx"},
		{"two CLIXML blocks", "#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">one_x000D__x000A_</S></Objs>` +
			"#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">two_x000D__x000A_</S></Objs>`,
			"one\ntwo"},
		{"truncated document keeps what decoded", "#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">first_x000D__x000A_</S><S S="Error">seco`,
			"first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeCLIXML([]byte(tt.in)); got != tt.want {
				t.Errorf("DecodeCLIXML:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
