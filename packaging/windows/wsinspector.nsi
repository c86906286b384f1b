; wsinspector per-user installer (NSIS 3).
;
;   makensis -NOCD -DVERSION=0.1.0 -DPAYLOAD=dist\wsinspector -DOUTFILE=dist\wsinspector-0.1.0-setup.exe
;            [-DVIVERSION=0.1.0.0] [-DICON=build\icons\wsinspector.ico] packaging\windows\wsinspector.nsi
;
; PAYLOAD is the PyInstaller onedir: wsinspector.exe (windowed), wsinspector-cli.exe (console) and _internal\.
; With -NOCD, relative paths are resolved against the directory makensis runs in (the repository root).
;
; Installs for the current user only, without administrator rights, into
; %LOCALAPPDATA%\Programs\wsinspector. Silent: "setup.exe /S [/D=C:\path]" and "uninstall.exe /S".
;
; File associations. Windows picks a handler by the last extension only, so *.wstest.yaml is a ".yaml"
; file and *.wssession.json a ".json" file to Explorer. Those extensions belong to every YAML or JSON
; tool, so the installer does not make itself their default. It registers two ProgIDs (wsinspector.test,
; wsinspector.session), lists them under OpenWithProgids of .yaml and .json, declares the application's
; SupportedTypes and its Capabilities (RegisteredApplications), so wsinspector appears in "Open with" and
; in Settings > Default apps, where the user decides. The uninstaller removes exactly these values and
; keys; other applications' entries under .yaml and .json stay.
;
; The user's data folder (%LOCALAPPDATA%\wsinspector) is never touched.

Unicode true

!ifndef VERSION
  !error "VERSION is not defined: makensis -DVERSION=X.Y.Z ..."
!endif
!ifndef PAYLOAD
  !error "PAYLOAD is not defined: makensis -DPAYLOAD=dist\wsinspector ..."
!endif
!ifndef OUTFILE
  !define OUTFILE "wsinspector-${VERSION}-setup.exe"
!endif
!ifndef VIVERSION
  !define VIVERSION "${VERSION}.0"
!endif
!ifndef ICON
  !define ICON "${__FILEDIR__}\..\..\build\icons\wsinspector.ico"
!endif

; The payload is 64-bit. A 64-bit installer when this NSIS has the amd64 stubs (Debian's does; the
; NSIS releases for Windows ship x86 only, and their 32-bit installer writes the same per-user keys).
!if /FileExists "${NSISDIR}\Stubs\lzma_solid-amd64-unicode"
  Target amd64-unicode
!endif

!define APP "wsinspector"
!define APPID "io.github.wsinspector.wsinspector"
!define PUBLISHER "The wsinspector authors"
!define HOMEPAGE "https://github.com/wsinspector/wsinspector"
!define GUI_EXE "wsinspector.exe"
!define CLI_EXE "wsinspector-cli.exe"
!define UNINSTALLER "uninstall.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"
!define APP_PATHS "Software\Microsoft\Windows\CurrentVersion\App Paths"
!define CLASSES "Software\Classes"
!define PROGID_TEST "wsinspector.test"
!define PROGID_SESSION "wsinspector.session"
!define CAPABILITIES "Software\${APP}\Capabilities"
!define SHORTCUT "$SMPROGRAMS\${APP}.lnk"

Name "${APP}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
SetCompressor /SOLID lzma
ManifestDPIAware true
ManifestSupportedOS all
ShowInstDetails show
ShowUninstDetails show
BrandingText "${APP} ${VERSION}"

VIProductVersion "${VIVERSION}"
VIFileVersion "${VIVERSION}"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP} ${VERSION} setup"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "MIT License, ${PUBLISHER}"

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "Integration.nsh"
!include "LogicLib.nsh"
!include "x64.nsh"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${GUI_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APP}"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; A file-type ProgID: name, icon and the open command "...\wsinspector.exe" "%1".
!macro WriteProgId PROGID DESCRIPTION
  WriteRegStr HKCU "${CLASSES}\${PROGID}" "" "${DESCRIPTION}"
  WriteRegStr HKCU "${CLASSES}\${PROGID}" "FriendlyTypeName" "${DESCRIPTION}"
  WriteRegStr HKCU "${CLASSES}\${PROGID}\DefaultIcon" "" "$INSTDIR\${GUI_EXE},0"
  WriteRegStr HKCU "${CLASSES}\${PROGID}\shell\open\command" "" '"$INSTDIR\${GUI_EXE}" "%1"'
!macroend

; Offer PROGID for files ending in EXT without taking over that extension's default.
!macro OfferFor EXT PROGID
  WriteRegStr HKCU "${CLASSES}\${EXT}\OpenWithProgids" "${PROGID}" ""
  WriteRegStr HKCU "${CLASSES}\Applications\${GUI_EXE}\SupportedTypes" "${EXT}" ""
  WriteRegStr HKCU "${CAPABILITIES}\FileAssociations" "${EXT}" "${PROGID}"
!macroend

; Remove PROGID from EXT's OpenWithProgids; the keys go only if nothing else is left in them.
!macro WithdrawFrom EXT PROGID
  DeleteRegValue HKCU "${CLASSES}\${EXT}\OpenWithProgids" "${PROGID}"
  DeleteRegKey /ifnosubkeys /ifnovalues HKCU "${CLASSES}\${EXT}\OpenWithProgids"
  DeleteRegKey /ifnosubkeys /ifnovalues HKCU "${CLASSES}\${EXT}"
!macroend

; A 32-bit installer (x86 stubs) uses the 64-bit registry view, as the 64-bit app does.
!macro RegView64
  !if ${NSIS_PTR_SIZE} <= 4
    ${If} ${RunningX64}
      SetRegView 64
    ${EndIf}
  !endif
!macroend

Function .onInit
  !insertmacro RegView64
FunctionEnd

Section "${APP}" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"

  ; An upgrade replaces the bundled libraries as a whole, so no stale module survives.
  ${If} ${FileExists} "$INSTDIR\${GUI_EXE}"
    RMDir /r "$INSTDIR\_internal"
  ${EndIf}

  File "${PAYLOAD}\${GUI_EXE}"
  File "${PAYLOAD}\${CLI_EXE}"
  File /r "${PAYLOAD}\_internal"
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  CreateShortCut "${SHORTCUT}" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\${GUI_EXE}" 0 SW_SHOWNORMAL "" \
    "WebSocket inspector"

  ; "wsinspector" and "wsinspector-cli" from Run (Win+R) and "start" in a console.
  WriteRegStr HKCU "${APP_PATHS}\${GUI_EXE}" "" "$INSTDIR\${GUI_EXE}"
  WriteRegStr HKCU "${APP_PATHS}\${GUI_EXE}" "Path" "$INSTDIR"
  WriteRegStr HKCU "${APP_PATHS}\${CLI_EXE}" "" "$INSTDIR\${CLI_EXE}"
  WriteRegStr HKCU "${APP_PATHS}\${CLI_EXE}" "Path" "$INSTDIR"

  !insertmacro WriteProgId "${PROGID_TEST}" "wsinspector test"
  !insertmacro WriteProgId "${PROGID_SESSION}" "wsinspector session"
  WriteRegStr HKCU "${CLASSES}\Applications\${GUI_EXE}" "FriendlyAppName" "${APP}"
  WriteRegStr HKCU "${CLASSES}\Applications\${GUI_EXE}\DefaultIcon" "" "$INSTDIR\${GUI_EXE},0"
  WriteRegStr HKCU "${CLASSES}\Applications\${GUI_EXE}\shell\open\command" "" '"$INSTDIR\${GUI_EXE}" "%1"'
  WriteRegStr HKCU "${CAPABILITIES}" "ApplicationName" "${APP}"
  WriteRegStr HKCU "${CAPABILITIES}" "ApplicationDescription" "Desktop inspector for WebSocket endpoints"
  WriteRegStr HKCU "${CAPABILITIES}" "ApplicationIcon" "$INSTDIR\${GUI_EXE},0"
  !insertmacro OfferFor ".yaml" "${PROGID_TEST}"
  !insertmacro OfferFor ".json" "${PROGID_SESSION}"
  WriteRegStr HKCU "Software\RegisteredApplications" "${APP}" "${CAPABILITIES}"

  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${GUI_EXE},0"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  WriteRegStr HKCU "${UNINST_KEY}" "URLInfoAbout" "${HOMEPAGE}"
  WriteRegStr HKCU "${UNINST_KEY}" "HelpLink" "${HOMEPAGE}/issues"
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" $0

  ${NotifyShell_AssocChanged}
SectionEnd

Function un.onInit
  !insertmacro RegView64
  ; An uninstaller copied elsewhere must not delete the folder it happens to run from.
  ${IfNot} ${FileExists} "$INSTDIR\${GUI_EXE}"
  ${AndIfNot} ${FileExists} "$INSTDIR\${UNINSTALLER}"
    MessageBox MB_ICONSTOP "${APP} is not installed in $INSTDIR." /SD IDOK
    Abort
  ${EndIf}
FunctionEnd

Section "Uninstall"
  ${UnpinShortcut} "${SHORTCUT}"
  Delete "${SHORTCUT}"

  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\${CLI_EXE}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${UNINSTALLER}"
  RMDir "$INSTDIR"

  DeleteRegKey HKCU "${APP_PATHS}\${GUI_EXE}"
  DeleteRegKey HKCU "${APP_PATHS}\${CLI_EXE}"
  !insertmacro WithdrawFrom ".yaml" "${PROGID_TEST}"
  !insertmacro WithdrawFrom ".json" "${PROGID_SESSION}"
  DeleteRegKey HKCU "${CLASSES}\${PROGID_TEST}"
  DeleteRegKey HKCU "${CLASSES}\${PROGID_SESSION}"
  DeleteRegKey HKCU "${CLASSES}\Applications\${GUI_EXE}"
  DeleteRegValue HKCU "Software\RegisteredApplications" "${APP}"
  DeleteRegKey HKCU "${CAPABILITIES}"
  DeleteRegKey /ifnosubkeys /ifnovalues HKCU "Software\${APP}"
  DeleteRegKey HKCU "${UNINST_KEY}"

  ${NotifyShell_AssocChanged}
SectionEnd
