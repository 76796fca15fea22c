; Inno Setup script for Hearth on Windows: a per-user install, no administrator rights.
;
; Build (on Windows, after the frozen app exists):
;   py packaging\dev.py run --version              (sets up .venv once)
;   .venv\Scripts\python -m pip install -e .[packaging]
;   .venv\Scripts\pyinstaller --noconfirm --distpath build\dist --workpath build\work packaging\hearth.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\hearth.iss
; Output: dist\Hearth-<version>-windows-x64-setup.exe. Not run in this project's CI (Linux only);
; see packaging\README.md for what is tested where and how to sign.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
; A fixed AppId keeps upgrades and the uninstall entry together across versions. Never change it.
AppId={{6F1C2B7E-5A43-4C1B-9D0E-4E61A7C2B8F1}
AppName=Hearth
AppVersion={#AppVersion}
AppPublisher=Hearth
AppComments=Your own private AI, on your own computer.
; Per user: installs under %LOCALAPPDATA%\Programs, writes only HKCU, never asks for admin.
PrivilegesRequired=lowest
DefaultDirName={autopf}\Hearth
DefaultGroupName=Hearth
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SourceDir=..\..
OutputDir=dist
OutputBaseFilename=Hearth-{#AppVersion}-windows-x64-setup
SetupIconFile=assets\icons\hearth.ico
UninstallDisplayIcon={app}\Hearth.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Close a running Hearth (Restart Manager) before files are replaced or removed.
CloseApplications=yes

[Files]
; The whole PyInstaller one-folder app.
Source: "build\dist\Hearth\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{userprograms}\Hearth"; Filename: "{app}\Hearth.exe"; Comment: "Your own private AI"
Name: "{userdesktop}\Hearth"; Filename: "{app}\Hearth.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Put Hearth on the desktop"; Flags: unchecked

[Run]
Filename: "{app}\Hearth.exe"; Description: "Open Hearth now"; Flags: nowait postinstall skipifsilent

[Code]
// Hearth keeps models, chats and settings in %LOCALAPPDATA%\Hearth (platformdirs' folder for
// the app name "Hearth"), never in the program folder, so removing the program leaves them.
// The uninstaller asks; "No" (keep) is the default, and a silent uninstall always keeps them.
// A data folder the person moved elsewhere (Hearth's "move my files") is never touched.
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  DataDir: String;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  DataDir := ExpandConstant('{localappdata}\Hearth');
  if not DirExists(DataDir) then
    exit;
  if UninstallSilent then
    exit;
  if SuppressibleMsgBox(
      'Hearth has been removed.' + #13#10#13#10 +
      'Do you also want to delete your models, chats and settings?' + #13#10 +
      '(' + DataDir + ')' + #13#10#13#10 +
      'Choose No to keep them, for example to install Hearth again later.',
      mbConfirmation, MB_YESNO or MB_DEFBUTTON2, IDNO) = IDYES then
  begin
    if not DelTree(DataDir, True, True, True) then
      MsgBox('Some files in ' + DataDir + ' could not be deleted. You can delete the folder yourself.',
             mbInformation, MB_OK);
  end;
end;
