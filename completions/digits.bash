# Bash completion for the digits programs: their options, the values of options that take one of a
# few words, and file arguments (images and folders, .model files, directories).
#
# make install puts this file in share/bash-completion/completions/ once under each program's name,
# since bash-completion loads a command's completion from the file named after it. Without
# bash-completion, `source completions/digits.bash` works as well: nothing here needs it.
#
# The option lists must match each program's --help; tests/e2e/test_completion.cpp fails when
# they do not (an option added to a program and not here, or a word list that went stale).

# Appends to COMPREPLY the folders under $1 and, with $2, the files whose name ends in one of the
# space-separated suffixes of $2 (case-insensitive); with $2 = '*', every file.
_digits_files() {
  local cur=$1 suffixes=$2 f s lower
  compopt -o filenames 2>/dev/null
  while IFS= read -r f; do
    if [[ -d $f ]]; then
      COMPREPLY+=("$f")
      continue
    fi
    [[ -n $suffixes ]] || continue
    if [[ $suffixes == '*' ]]; then
      COMPREPLY+=("$f")
      continue
    fi
    lower=${f,,}
    for s in $suffixes; do
      if [[ $lower == *"$s" ]]; then
        COMPREPLY+=("$f")
        break
      fi
    done
  done < <(compgen -f -- "$cur")
}

# Appends to COMPREPLY the words of $1 (separated by blanks) that begin with $2.
_digits_words() {
  local w
  while IFS= read -r w; do COMPREPLY+=("$w"); done < <(compgen -W "$1" -- "$2")
}

_digits_complete() {
  local cmd=${1##*/} cur=${COMP_WORDS[COMP_CWORD]} prev=
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  COMPREPLY=()

  # --option=value is the value of --option.
  if [[ $cur == --*=* ]]; then
    prev=${cur%%=*}
    cur=${cur#*=}
  elif [[ $cur == = && $prev == --* ]]; then
    cur=
  elif [[ $prev == = && COMP_CWORD -gt 1 ]]; then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi

  local images='.png .jpg .jpeg .bmp .tif .tiff .webp .pgm .ppm .pbm .pnm'
  local options= positional=

  case $cmd in
    digits-fetch)
      options='-h --help --version --dir --from --name --no-verify --force -q --quiet'
      case $prev in
        --dir) _digits_files "$cur"; return ;;
        --from) _digits_files "$cur" '.tgz .tar.gz .tar'; return ;;
        --name) return ;;
      esac ;;
    digits-train)
      options='-h --help --version --data --out --epochs --batch --seed --arch --keep --augment
               --augment-probability --not-digits --cut-parts --subset --validation --learning-rate
               --threads --evaluate -q --quiet'
      case $prev in
        --data) _digits_files "$cur"; return ;;
        --out) _digits_files "$cur" '*'; return ;;
        --evaluate) _digits_files "$cur" '.model'; return ;;
        --arch) _digits_words 'cnn-16-32-128 cnn-24-48-128 cnn-32-64-256 cnn-same-16-32-128' "$cur"; return ;;
        --keep) _digits_words 'last best' "$cur"; return ;;
        --augment) _digits_words 'on off' "$cur"; return ;;
        --epochs | --batch | --seed | --augment-probability | --not-digits | --cut-parts | --subset | \
          --validation | --learning-rate | --threads) return ;;
      esac ;;
    digits-segment)
      options='-h --help --version --invert --max-pixels --work-timeout --model --debug'
      positional=$images
      case $prev in
        --invert) _digits_words 'auto yes no' "$cur"; return ;;
        --model) _digits_files "$cur" '.model'; return ;;
        --debug) _digits_files "$cur"; return ;;
        --max-pixels | --work-timeout) return ;;
      esac ;;
    digits-classify)
      options='-h --help --version --model --format --alternatives --min-probability -r --recursive
               --idx --labels --jobs --invert --max-pixels --work-timeout -q --quiet --pixels'
      positional=$images
      case $prev in
        --model) _digits_files "$cur" '.model'; return ;;
        --format) _digits_words 'json text csv' "$cur"; return ;;
        --invert) _digits_words 'auto yes no' "$cur"; return ;;
        --idx | --labels) _digits_files "$cur" '*'; return ;;
        --alternatives | --min-probability | --jobs | --max-pixels | --work-timeout) return ;;
      esac ;;
    digits-serve)
      options='-h --help --version --host --port --model --threads --max-upload-mb --memory-budget-mb --header-timeout
               --upload-timeout --work-timeout --min-probability --invert --max-pixels -q --quiet'
      case $prev in
        --model) _digits_files "$cur" '.model'; return ;;
        --invert) _digits_words 'auto yes no' "$cur"; return ;;
        --host) _digits_words '127.0.0.1 0.0.0.0 ::' "$cur"; return ;;
        --port | --threads | --max-upload-mb | --memory-budget-mb | --header-timeout | --upload-timeout | --work-timeout | \
          --min-probability | --max-pixels) return ;;
      esac ;;
    digits-gen-images)
      options='-h --help --version --mnist --out --class --count --seed --width --height --frame
               --digits --list-classes'
      case $prev in
        --mnist | --out) _digits_files "$cur"; return ;;
        --class)
          _digits_words 'clean touching photo multiline ruled grid inverted canvas desk pen dim pad' "$cur"
          return ;;
        --count | --seed | --width | --height | --frame | --digits) return ;;
      esac ;;
    *) return ;;
  esac

  if [[ $cur == -* ]]; then
    _digits_words "$options" "$cur"
  elif [[ -n $positional ]]; then
    _digits_files "$cur" "$positional"
  fi
}

complete -F _digits_complete digits-fetch digits-train digits-segment digits-classify digits-serve digits-gen-images
